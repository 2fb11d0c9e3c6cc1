import { isEhrVaultError } from '../../services/errors.js';

/** The next step an error offers: a place to go, or something the view itself can do again. */
export type ErrorAction = { readonly label: string; readonly href: string } | { readonly label: string; readonly run: 'retry' | 'protect-as-file' | 'fix-sequence-key' | 'fix-share-text' | 'retry-upload' };

export interface ErrorView {
  readonly code: string;
  /** A finer kind where one code means different things to a person (not uploaded yet, not found, withdrawn). */
  readonly kind?: string;
  readonly title: string;
  readonly hint: string;
  readonly actions: readonly ErrorAction[];
  /** An image that could not be decoded here: it can still be protected as a file (its original bytes). */
  readonly undecodableImage?: boolean;
}

/** What the view knew when the error happened, for the cases where the code alone is not enough. */
export interface ErrorContext {
  /** The sync state of the record on this device, when it has it. */
  readonly syncState?: string | undefined;
}

const SETTINGS = { label: 'Open Settings', href: '#/settings' } as const;
const RETRY = { label: 'Try again', run: 'retry' } as const;

/** Plain words for each failure a person can meet, and the step that helps. */
const VIEWS: Record<string, { title: string; hint: string; actions: readonly ErrorAction[] }> = {
  WRONG_RECORD_KEY: { title: 'This share text does not open the record.', hint: 'Ask the sender to send the share text again, and paste all of it.', actions: [{ label: 'Check the share text', run: 'fix-share-text' }] },
  WRONG_SEQUENCE_KEY: { title: 'That sequence key is not the one this record was protected with.', hint: 'Check each character of the sequence key (the sender gives it to you separately) and try again.', actions: [{ label: 'Check the sequence key', run: 'fix-sequence-key' }] },
  SEQUENCE_KEY_INVALID: { title: 'The sequence key is not valid.', hint: 'It needs at least 8 different characters and no spaces.', actions: [{ label: 'Check the sequence key', run: 'fix-sequence-key' }] },
  SHARE_TEXT_INVALID: { title: 'This is not a complete share link or share text.', hint: 'A share text starts with “ehrv1:”. Paste all of it, or scan its QR code.', actions: [{ label: 'Check the share text', run: 'fix-share-text' }] },
  FRAGMENT_FOREIGN: { title: 'Something stored for this record is not part of it.', hint: 'Nothing was shown. Try again; if it keeps failing, ask the sender to share the record again.', actions: [RETRY] },
  READ_ONLY: { title: 'This record was shared with you.', hint: 'You can open it and forget it on this device; only its owner can change, share on or withdraw it.', actions: [] },
  SHARING_UNAVAILABLE: { title: 'This storage service cannot make share links.', hint: 'Share the record as text instead (copy the share text).', actions: [] },
  KEY_TEXT_INVALID: { title: 'This is not a complete share text.', hint: 'A share text starts with “ehrv1:”. Paste all of it, or scan its QR code.', actions: [{ label: 'Check the share text', run: 'fix-share-text' }] },
  FRAGMENT_MISSING: { title: 'A part of this record is missing.', hint: 'Try again when online; if it keeps failing, ask the sender to protect the record again.', actions: [RETRY] },
  FRAGMENT_TAMPERED: { title: 'A part of this record was changed or damaged.', hint: 'Nothing was shown. Ask the sender to protect and share the record again.', actions: [] },
  FRAGMENT_UNAVAILABLE: { title: 'Part of this record is not on this device and cannot be downloaded now.', hint: 'Connect to the internet and try again.', actions: [RETRY] },
  CHECKSUM_MISMATCH: { title: 'A downloaded part of the record was damaged on the way.', hint: 'Try again; if it keeps failing, the stored copy is damaged.', actions: [RETRY] },
  NETWORK_OFFLINE: { title: 'You are offline.', hint: 'Connect to the internet and try again. Uploads continue by themselves.', actions: [RETRY] },
  NETWORK_ERROR: { title: 'The cloud storage cannot be reached.', hint: 'Check your connection and try again. If it lasts, check the storage address in Settings.', actions: [RETRY, SETTINGS] },
  NETWORK_TIMEOUT: { title: 'The transfer stalled.', hint: 'Check your connection and try again.', actions: [RETRY] },
  OFFLINE: { title: 'You are offline.', hint: 'Connect to the internet and try again.', actions: [RETRY] },
  CLOUD_NOT_CONFIGURED: { title: 'No cloud storage is set up.', hint: 'Enter your storage service address and access token in Settings.', actions: [SETTINGS] },
  PRESIGN_UNAUTHORIZED: { title: 'The cloud storage did not accept your access token.', hint: 'Open Settings and enter the access token again; it may have expired or been mistyped.', actions: [SETTINGS] },
  PRESIGN_REJECTED: { title: 'The cloud storage refused the request.', hint: 'Check the storage service address in Settings.', actions: [SETTINGS] },
  PRESIGN_UNAVAILABLE: { title: 'The cloud storage service is not answering.', hint: 'EHR Vault retries by itself. If it lasts, check the address in Settings.', actions: [RETRY, SETTINGS] },
  RATE_LIMITED: { title: 'The cloud storage is busy.', hint: 'Wait a minute and try again.', actions: [RETRY] },
  TRANSFER_FORBIDDEN: { title: 'The cloud storage refused the transfer.', hint: 'Check that this device’s date and time are right, then the storage settings.', actions: [RETRY, SETTINGS] },
  TRANSFER_FAILED: { title: 'The cloud storage refused the transfer.', hint: 'Try again later; if it keeps failing, check the storage settings.', actions: [RETRY, SETTINGS] },
  FRAGMENT_TOO_LARGE: { title: 'This record is too large for the storage service in one piece.', hint: 'Protect it again with a longer sequence key: more, smaller fragments.', actions: [] },
  STORAGE_FULL: { title: 'This device is out of storage space.', hint: 'Nothing was saved. Free some space (or remove records from this device only once they are in the cloud), then try again.', actions: [{ label: 'See records', href: '#/records' }] },
  STORAGE_UNAVAILABLE: { title: 'This browser does not let EHR Vault store records.', hint: 'Leave private browsing, or allow site data for this app, then reload.', actions: [] },
  RECORD_NOT_UPLOADED: { title: 'This record is not in the cloud yet.', hint: 'Removing it from this device now would lose it. Wait until it is uploaded, or delete it everywhere.', actions: [] },
  VAULT_LOCKED: { title: 'EHR Vault is locked.', hint: 'Unlock it with your passphrase.', actions: [] },
  WRONG_PASSPHRASE: { title: 'That passphrase is not correct.', hint: 'Check it and try again (capital letters count).', actions: [] },
  KEY_UNAVAILABLE: { title: 'This device has no key for that record.', hint: 'Open it with its share text and sequence key.', actions: [{ label: 'Open a shared record', href: '#/open' }] },
  ENGINE_STALLED: { title: 'The browser stopped working on this record.', hint: 'Nothing was lost: what you picked or opened is still here. Try again; if it happens again, reload the page or restart the browser.', actions: [RETRY] },
  ABORTED: { title: 'Cancelled.', hint: 'Start again when you are ready.', actions: [] },
};

/** "Not in the cloud" means three different things to a person, told apart by what this device knows. */
function missingFromCloud(context: ErrorContext): Pick<ErrorView, 'kind' | 'title' | 'hint' | 'actions'> {
  switch (context.syncState) {
    case 'local':
    case 'uploading':
    case 'failed':
      return { kind: 'not-uploaded-yet', title: 'This record is not uploaded yet.', hint: 'It is still on the device that protected it. Try again once its upload has finished.', actions: [RETRY, { label: 'See upload state', href: '#/records' }] };
    case 'deleting':
    case 'remote':
      return { kind: 'withdrawn', title: 'This record was withdrawn from the cloud.', hint: 'Its owner deleted it. Ask them to share it again if you still need it.', actions: [] };
    default:
      return { kind: 'not-found', title: 'No record matches this share text.', hint: 'Check that the whole share text was pasted. If it is right, the record has not been uploaded yet or was withdrawn: ask the sender.', actions: [{ label: 'Check the share text', run: 'fix-share-text' }, RETRY] };
  }
}

export function describeError(error: unknown, context: ErrorContext = {}): ErrorView {
  if (isEhrVaultError(error)) {
    const decode = error.details.decode === true;
    if (error.code === 'FRAGMENT_NOT_IN_CLOUD') return { code: error.code, ...missingFromCloud(context) };
    if (decode) {
      return { code: String(error.code), kind: 'undecodable-image', title: error.message, hint: error.hint, actions: [{ label: 'Protect it as a file', run: 'protect-as-file' }], undecodableImage: true };
    }
    const view = VIEWS[error.code];
    if (view) return { code: String(error.code), ...view };
    return { code: String(error.code), title: error.message, hint: error.hint, actions: [] };
  }
  return { code: 'UNEXPECTED', title: 'Something went wrong.', hint: 'Try again; if it happens again, reload the page.', actions: [RETRY] };
}

/** A stored upload failure (code, message, hint) in the same plain words. */
export function describeStoredError(stored: { readonly code: string; readonly message: string; readonly hint: string } | null): ErrorView {
  if (!stored) return { code: 'UNEXPECTED', title: 'The upload failed.', hint: 'Try the upload again.', actions: [{ label: 'Retry upload', run: 'retry-upload' }] };
  const view = VIEWS[stored.code];
  const actions: ErrorAction[] = [{ label: 'Retry upload', run: 'retry-upload' }, ...(view?.actions.filter((a) => 'href' in a) ?? [])];
  return { code: stored.code, title: view?.title ?? stored.message, hint: view?.hint ?? stored.hint, actions };
}
