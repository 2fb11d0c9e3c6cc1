import { EhrVaultError } from '../../core/errors.js';

/** An input that cannot be turned into pixels. `details.reason` says why, for a UI to switch on. */
export class ImageDecodeError extends EhrVaultError {
  constructor(message: string, hint: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('INPUT_INVALID', message, hint, { ...details, decode: true }, { cause });
  }
}
