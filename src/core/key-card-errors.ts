import { EhrVaultError, type ErrorDetails } from './errors.js';

/**
 * Errors of key cards and of share texts wrapped to one (FORMAT.md §11.3). Their own codes, kept out of
 * the record format's `ErrorCode` union: they are about who may open a link, not about a record's bytes.
 */
export type KeyCardErrorCode = 'KEY_CARD_INVALID' | 'SHARED_TO_ANOTHER_CARD' | 'WRAPPED_KEY_DAMAGED';

export type KeyCardProblem = 'prefix' | 'shape' | 'key' | 'name';

export class KeyCardInvalidError extends EhrVaultError<KeyCardErrorCode> {
  readonly problem: KeyCardProblem;
  constructor(problem: KeyCardProblem, message: string) {
    super('KEY_CARD_INVALID', message, 'Copy the whole key card (or its link) again from the doctor\'s screen, or scan its QR code; it starts with "ehrvc1.".', { problem });
    this.problem = problem;
  }
}

/**
 * The link was wrapped to a key card this device does not hold: it cannot be opened here, by design (the
 * patient consented to one person's device). Never shown as garbage or as a damaged record.
 */
export class SharedToAnotherCardError extends EhrVaultError<KeyCardErrorCode> {
  constructor(name: string, details: ErrorDetails = {}) {
    super(
      'SHARED_TO_ANOTHER_CARD',
      `This link was shared to ${name}'s key card.`,
      `Open it on the device that holds that card (the fingerprints on both screens must match), or ask the sender for a link made for you.`,
      { name, ...details },
    );
  }
}

/** The key card matches, but the wrapped key does not open: the link was changed or cut. */
export class WrappedKeyDamagedError extends EhrVaultError<KeyCardErrorCode> {
  constructor(details: ErrorDetails = {}) {
    super('WRAPPED_KEY_DAMAGED', 'The record key in this link does not open with your key card: the link was changed or cut short.', 'Copy the whole link again, exactly as it was sent, or ask the sender for a new one.', details);
  }
}
