/**
 * Every failure the core reports is an `EhrVaultError` with a stable `code` (safe to switch on, log and
 * translate) and a `hint` a person can act on. Details carry the facts a UI needs (which index character,
 * which chunk) without parsing messages.
 */
export type ErrorCode =
  | 'ABORTED'
  | 'INPUT_INVALID'
  | 'SEQUENCE_KEY_INVALID'
  | 'WRONG_SEQUENCE_KEY'
  | 'WRONG_RECORD_KEY'
  | 'KEY_TEXT_INVALID'
  | 'SHARE_TEXT_INVALID'
  | 'FRAGMENT_MALFORMED'
  | 'FRAGMENT_UNSUPPORTED'
  | 'FRAGMENT_TRUNCATED'
  | 'FRAGMENT_FOREIGN'
  | 'FRAGMENT_TAMPERED'
  | 'FRAGMENT_DUPLICATE'
  | 'FRAGMENT_MISSING'
  | 'CHAIN_BROKEN'
  | 'CHAIN_LOOP'
  | 'ENVELOPE_MALFORMED'
  | 'ENVELOPE_UNSUPPORTED'
  | 'ENVELOPE_TAMPERED'
  | 'ENVELOPE_TRUNCATED'
  | 'ENVELOPE_TRAILING_DATA'
  | 'METADATA_INVALID'
  | 'SOURCE_LENGTH_MISMATCH';

export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * `C` lets layers above the core add their own codes (services: network, storage, keys) while the core's
 * own errors keep the exact `ErrorCode` union.
 */
export class EhrVaultError<C extends string = ErrorCode> extends Error {
  readonly code: C;
  readonly hint: string;
  readonly details: ErrorDetails;

  constructor(code: C, message: string, hint: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
    this.details = details;
  }
}

export class AbortedError extends EhrVaultError {
  constructor(reason?: unknown) {
    super('ABORTED', 'The operation was cancelled.', 'Start it again when you are ready.', {}, { cause: reason });
  }
}

export class InputInvalidError extends EhrVaultError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('INPUT_INVALID', message, 'This is a programming error in the caller; please report it.', details);
  }
}

/** One reason a sequence key is not acceptable; a key can have several at once. */
export type SequenceKeyIssue =
  | { readonly code: 'TOO_SHORT'; readonly length: number; readonly min: number }
  | { readonly code: 'TOO_LONG'; readonly length: number; readonly max: number }
  | { readonly code: 'WHITESPACE'; readonly positions: readonly number[] }
  | { readonly code: 'REPEATED'; readonly characters: readonly string[] }
  | {
      readonly code: 'DISALLOWED_CHARACTER';
      readonly characters: readonly { readonly character: string; readonly codePoint: string; readonly kind: DisallowedKind }[];
    };

export type DisallowedKind = 'control' | 'format' | 'combining-mark' | 'private-use' | 'unassigned' | 'surrogate';

export class SequenceKeyInvalidError extends EhrVaultError {
  readonly issues: readonly SequenceKeyIssue[];
  constructor(issues: readonly SequenceKeyIssue[], messages: readonly string[]) {
    super(
      'SEQUENCE_KEY_INVALID',
      `The sequence key is not valid: ${messages.join(' ')}`,
      'Use at least 8 different characters with no spaces, for example a generated key.',
      { issues },
    );
    this.issues = issues;
  }
}

export class WrongSequenceKeyError extends EhrVaultError {
  /** Why, on its own ("it has 8 characters, and …"): for a hint shown before Open. */
  readonly reason: string;

  constructor(reason: string, details: ErrorDetails = {}) {
    super(
      'WRONG_SEQUENCE_KEY',
      `These fragments were split with a different sequence key: ${reason}`,
      'Check the sequence key with the person who protected the record; it must be the same characters in the same order.',
      details,
    );
    this.reason = reason;
  }
}

export class WrongRecordKeyError extends EhrVaultError {
  constructor(message = 'The record key does not match this record.', details: ErrorDetails = {}) {
    super('WRONG_RECORD_KEY', message, 'Check that you pasted the record key that belongs to this record.', details);
  }
}

export type KeyTextProblem = 'prefix' | 'length' | 'character' | 'checksum' | 'non-canonical';

export class KeyTextInvalidError extends EhrVaultError {
  readonly problem: KeyTextProblem;
  constructor(problem: KeyTextProblem, message: string, details: ErrorDetails = {}) {
    super('KEY_TEXT_INVALID', message, 'Copy the record key again, exactly as it was shared; it starts with "ehrvk1.".', { problem, ...details });
    this.problem = problem;
  }
}

export type ShareTextProblem = 'prefix' | 'locator' | 'key' | 'storage';

export class ShareTextInvalidError extends EhrVaultError {
  readonly problem: ShareTextProblem;
  constructor(problem: ShareTextProblem, message: string) {
    super('SHARE_TEXT_INVALID', message, 'Copy the whole share text (or link) again, exactly as it was sent; it starts with "ehrv1:".', { problem });
    this.problem = problem;
  }
}

/** Errors about one fragment name it by its index character when the character could be read. */
export class FragmentError extends EhrVaultError {
  constructor(
    code: Extract<ErrorCode, `FRAGMENT_${string}` | `CHAIN_${string}`>,
    message: string,
    hint: string,
    details: ErrorDetails = {},
  ) {
    super(code, message, hint, details);
  }
}

export class EnvelopeError extends EhrVaultError {
  constructor(
    code: Extract<ErrorCode, `ENVELOPE_${string}` | 'METADATA_INVALID' | 'SOURCE_LENGTH_MISMATCH'>,
    message: string,
    hint: string,
    details: ErrorDetails = {},
  ) {
    super(code, message, hint, details);
  }
}

export function isEhrVaultError(value: unknown): value is EhrVaultError<string> {
  return value instanceof EhrVaultError;
}
