import { isEhrVaultError } from '../../services/errors.js';

export interface ErrorView {
  readonly code: string;
  readonly title: string;
  readonly hint: string;
  /** An image that could not be decoded here: it can still be protected as a file (its original bytes). */
  readonly undecodableImage?: boolean;
}

/** Plain titles for the failures a person meets most; everything else uses the error's own message. */
const TITLES: Record<string, string> = {
  WRONG_RECORD_KEY: 'This record key does not open the record.',
  WRONG_SEQUENCE_KEY: 'This sequence key does not open the record.',
  FRAGMENT_MISSING: 'A fragment of this record is missing.',
  FRAGMENT_TAMPERED: 'A fragment was altered or damaged.',
  FRAGMENT_NOT_IN_CLOUD: 'This record is not in the cloud: it was withdrawn, deleted, or never uploaded.',
  NETWORK_ERROR: 'You are offline or the storage cannot be reached.',
  OFFLINE: 'You are offline.',
  KEY_TEXT_INVALID: 'The record key in the share text is not valid.',
  SHARE_TEXT_INVALID: 'This is not a complete share text.',
  FRAGMENT_FOREIGN: 'Something stored for this record is not part of it.',
  SEQUENCE_KEY_INVALID: 'The sequence key is not valid.',
  STORAGE_FULL: 'This device is out of storage space.',
  ABORTED: 'Cancelled.',
};

export function describeError(error: unknown): ErrorView {
  if (isEhrVaultError(error)) {
    return {
      code: error.code,
      title: TITLES[error.code] ?? error.message,
      hint: TITLES[error.code] ? `${error.message} ${error.hint}` : error.hint,
      ...(error.details.decode === true ? { undecodableImage: true } : {}),
    };
  }
  return { code: 'UNEXPECTED', title: 'Something went wrong.', hint: error instanceof Error ? error.message : String(error) };
}
