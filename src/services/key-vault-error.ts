import { EhrVaultError } from '../core/errors.js';

export type KeyVaultErrorCode = 'VAULT_LOCKED' | 'WRONG_PASSPHRASE' | 'PASSPHRASE_TOO_WEAK' | 'KEY_UNAVAILABLE';

/** Failures of the on-device key vault, shaped like the core's errors (stable `code`, a `hint`). */
export class KeyVaultError extends EhrVaultError<KeyVaultErrorCode> {
  constructor(code: KeyVaultErrorCode, message: string, hint: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super(code, message, hint, details, { cause });
  }
}
