import { EhrVaultError } from '../core/errors.js';

/** Failures of the on-device store: `EhrVaultError`s with storage codes and a hint a person can act on. */
export type StorageErrorCode =
  | 'STORAGE_FULL'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_VERSION_TOO_NEW'
  | 'STORAGE_WRITE_FAILED'
  | 'RECORD_EXISTS'
  | 'RECORD_NOT_FOUND'
  | 'RECORD_NOT_UPLOADED'
  | 'OUTBOX_INVALID_TRANSITION';

const HINTS: Record<StorageErrorCode, string> = {
  STORAGE_FULL: 'Free space on this device (or remove records you no longer need from this browser), then protect the record again. Nothing was saved.',
  STORAGE_UNAVAILABLE: 'This browser does not let EHR Vault store data (private mode or blocked site data). Allow site data for this app, or use a normal window.',
  STORAGE_VERSION_TOO_NEW: 'A newer version of EHR Vault is open or was used in this browser. Reload the page to update the app.',
  STORAGE_WRITE_FAILED: 'Try again. If it keeps failing, reload the page; nothing half-written was kept.',
  RECORD_EXISTS: 'This record is already stored on this device; protect the file again to get a new record.',
  RECORD_NOT_FOUND: 'The record is not stored on this device. Open it from the cloud with its record key instead.',
  RECORD_NOT_UPLOADED: 'Wait until the upload has finished (Records shows “In the cloud”), or delete it everywhere.',
  OUTBOX_INVALID_TRANSITION: 'This is a programming error in EHR Vault; please report it.',
};

export class StorageError extends EhrVaultError<StorageErrorCode> {
  constructor(code: StorageErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, options?: { cause?: unknown }) {
    super(code, message, HINTS[code], details, options);
  }
}

function domExceptionName(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string') return error.name;
  return undefined;
}

/**
 * Maps what IndexedDB throws (DOMExceptions, or idb's rejected `tx.done`) to a typed error. Quota
 * failures are the one a person can fix, so they get their own code.
 */
export function toStorageError(error: unknown, action: string): StorageError {
  if (error instanceof StorageError) return error;
  const name = domExceptionName(error);
  if (name === 'QuotaExceededError') {
    return new StorageError('STORAGE_FULL', `There is not enough storage space on this device to ${action}.`, {}, { cause: error });
  }
  if (name === 'VersionError') {
    return new StorageError('STORAGE_VERSION_TOO_NEW', 'The on-device database was created by a newer version of EHR Vault.', {}, { cause: error });
  }
  if (name === 'InvalidStateError' || name === 'SecurityError' || name === 'UnknownError') {
    return new StorageError('STORAGE_UNAVAILABLE', `The browser refused to ${action}: ${name}.`, { name }, { cause: error });
  }
  return new StorageError('STORAGE_WRITE_FAILED', `Could not ${action}${name ? ` (${name})` : ''}.`, name ? { name } : {}, { cause: error });
}
