import { AbortedError, EhrVaultError, isEhrVaultError } from '../core/errors.js';
import type { StoredError } from '../storage/schema.js';

/**
 * Failures of the cloud side (presign service, object store, network), as `EhrVaultError`s with their
 * own codes: a stable `code` to switch on, a `hint` a person can act on, and `details`. `retryable`
 * says whether trying again later can help without a person doing anything.
 */
export type ServiceErrorCode =
  | 'CLOUD_NOT_CONFIGURED'
  | 'PRESIGN_UNAUTHORIZED'
  | 'PRESIGN_REJECTED'
  | 'PRESIGN_UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'NETWORK_OFFLINE'
  | 'NETWORK_ERROR'
  | 'NETWORK_TIMEOUT'
  | 'TRANSFER_FORBIDDEN'
  | 'TRANSFER_FAILED'
  | 'FRAGMENT_TOO_LARGE'
  | 'FRAGMENT_NOT_IN_CLOUD'
  | 'CHECKSUM_MISMATCH'
  | 'FRAGMENT_UNAVAILABLE'
  | 'SIGN_IN_REQUIRED'
  | 'SHARING_UNAVAILABLE'
  | 'READ_ONLY'
  | 'SEQUENCE_KEY_NEEDED';

const HINTS: Record<ServiceErrorCode, string> = {
  CLOUD_NOT_CONFIGURED: 'Enter the presign service address and your access token in Settings.',
  PRESIGN_UNAUTHORIZED: 'Check the access token in Settings; it may have been mistyped, revoked or expired.',
  PRESIGN_REJECTED: 'The presign service refused the request. Check the service address in Settings, or update EHR Vault.',
  PRESIGN_UNAVAILABLE: 'The presign service is not answering. EHR Vault retries by itself; check the service address if this lasts.',
  RATE_LIMITED: 'Too many requests for now. EHR Vault waits and retries by itself.',
  NETWORK_OFFLINE: 'This device is offline. Uploads continue by themselves when the connection is back.',
  NETWORK_ERROR: 'The connection failed. EHR Vault retries by itself; check your connection if this lasts.',
  NETWORK_TIMEOUT: 'The transfer stalled. EHR Vault retries by itself; check your connection if this lasts.',
  TRANSFER_FORBIDDEN: 'The cloud store refused the signed address even after a fresh one. Check the device clock, and that the presign service and the store belong together.',
  TRANSFER_FAILED: 'The cloud store refused the transfer. Try again later; if it persists, check the store settings.',
  FRAGMENT_TOO_LARGE: 'This fragment is larger than the service accepts: protect the record again with a longer sequence key (more, smaller fragments).',
  FRAGMENT_NOT_IN_CLOUD: 'The record is not in the cloud: its owner withdrew or deleted it, or it has not finished uploading. Ask the sender.',
  CHECKSUM_MISMATCH: 'The downloaded fragment differs from the one that was stored. Try again; if it persists, the stored copy is damaged.',
  FRAGMENT_UNAVAILABLE: 'This fragment is neither on this device nor downloadable right now. Try again when online.',
  SIGN_IN_REQUIRED: 'Sign in again (Settings → Account); uploads continue by themselves afterwards.',
  SHARING_UNAVAILABLE: 'Share the record as text instead (copy the share text), or use a presign service that makes share links.',
  READ_ONLY: 'This record was shared with you: you can open it and forget it on this device; only its owner can change or withdraw it.',
  SEQUENCE_KEY_NEEDED: 'Open the record with its sequence key, then choose this again: the new copy is protected with the same sequence key.',
};

const DEFAULT_RETRYABLE = new Set<ServiceErrorCode>(['PRESIGN_UNAVAILABLE', 'RATE_LIMITED', 'NETWORK_OFFLINE', 'NETWORK_ERROR', 'NETWORK_TIMEOUT', 'CHECKSUM_MISMATCH']);

export interface ServiceErrorOptions {
  readonly cause?: unknown;
  /** Overrides the code's default (e.g. a 5xx TRANSFER_FAILED is worth retrying, a 400 is not). */
  readonly retryable?: boolean | undefined;
}

export class ServiceError extends EhrVaultError<ServiceErrorCode> {
  readonly retryable: boolean;

  constructor(code: ServiceErrorCode, message: string, details: Readonly<Record<string, unknown>> = {}, options: ServiceErrorOptions = {}) {
    super(code, message, HINTS[code], details, { cause: options.cause });
    this.retryable = options.retryable ?? DEFAULT_RETRYABLE.has(code);
  }
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof ServiceError;
}

export function isAbort(error: unknown): boolean {
  return error instanceof AbortedError || (isEhrVaultError(error) && error.code === 'ABORTED');
}

/** Network-level failures: the runner treats them as "offline for now" rather than as the entry's fault. */
export function isConnectivityError(error: unknown): boolean {
  return isServiceError(error) && (error.code === 'NETWORK_OFFLINE' || error.code === 'NETWORK_ERROR' || error.code === 'NETWORK_TIMEOUT');
}

/** What gets stored in `lastError` and sent with events: every typed error, and a fallback for the rest. */
export function summarizeError(error: unknown): StoredError {
  if (error instanceof EhrVaultError) {
    return { code: String(error.code), message: error.message, hint: error.hint };
  }
  return {
    code: 'UNEXPECTED',
    message: error instanceof Error ? error.message : String(error),
    hint: 'This is unexpected; reload the page and try again, and report it if it happens again.',
  };
}
