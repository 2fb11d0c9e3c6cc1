import { SequenceKeyInvalidError, type DisallowedKind, type SequenceKeyIssue } from './errors.js';

/** Paper V.D: "There should be at least 8 characters in the sequence key." */
export const SEQUENCE_KEY_MIN_LENGTH = 8;
/**
 * Our bound: n = length fragments, and more than 64 fragments only multiplies requests and per-fragment
 * overhead without making anything safer. It also keeps the fragment header's n field far from its u16 limit.
 */
export const SEQUENCE_KEY_MAX_LENGTH = 64;

/** A validated sequence key: its characters (Unicode code points, NFC) in order; n = chars.length. */
export interface SequenceKey {
  readonly text: string;
  readonly chars: readonly string[];
  readonly n: number;
}

export type SequenceKeyValidation =
  | { readonly ok: true; readonly key: SequenceKey }
  | { readonly ok: false; readonly issues: readonly SequenceKeyIssue[]; readonly messages: readonly string[] };

const WHITESPACE = /^[\p{White_Space}\p{Zs}\p{Zl}\p{Zp}]$/u;
const ALLOWED = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

function disallowedKind(char: string): DisallowedKind {
  if (/^\p{Cc}$/u.test(char)) return 'control';
  if (/^\p{Cf}$/u.test(char)) return 'format';
  if (/^\p{M}$/u.test(char)) return 'combining-mark';
  if (/^\p{Co}$/u.test(char)) return 'private-use';
  if (/^\p{Cs}$/u.test(char)) return 'surrogate';
  return 'unassigned';
}

function codePointLabel(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

const KIND_WORDS: Record<DisallowedKind, string> = {
  control: 'a control character',
  format: 'an invisible formatting character',
  'combining-mark': 'a combining mark (type the accented letter as one character)',
  'private-use': 'a private-use character',
  surrogate: 'a broken character',
  unassigned: 'a character Unicode does not define',
};

/** A sentence per issue, for logs and for a UI that has no translation of its own. */
export function describeSequenceKeyIssue(issue: SequenceKeyIssue): string {
  switch (issue.code) {
    case 'TOO_SHORT':
      return `It has ${issue.length} characters; it needs at least ${issue.min}.`;
    case 'TOO_LONG':
      return `It has ${issue.length} characters; at most ${issue.max} are allowed.`;
    case 'WHITESPACE':
      return `It contains a space or other blank at position ${issue.positions.map((p) => p + 1).join(', ')}.`;
    case 'REPEATED':
      return `Each character may be used once; ${issue.characters.map((c) => `'${c}'`).join(', ')} ${issue.characters.length === 1 ? 'is' : 'are'} used more than once.`;
    case 'DISALLOWED_CHARACTER':
      return issue.characters.map((c) => `${c.codePoint} is ${KIND_WORDS[c.kind]}.`).join(' ');
  }
}

/**
 * Checks a sequence key against the paper's three rules plus ours, and returns every reason it fails
 * (not just the first), so a form can show them all at once.
 *
 * Characters are Unicode code points after NFC normalisation: "é" typed as one key or as e + U+0301
 * is the same key on every device. Allowed are letters, numbers, punctuation and symbols (general
 * categories L, N, P, S); whitespace of any kind, controls, invisible format characters (e.g. U+200D),
 * lone combining marks, private-use, surrogate and unassigned code points are not.
 */
export function validateSequenceKey(input: string): SequenceKeyValidation {
  const text = input.normalize('NFC');
  const chars = Array.from(text);
  const issues: SequenceKeyIssue[] = [];

  if (chars.length < SEQUENCE_KEY_MIN_LENGTH) {
    issues.push({ code: 'TOO_SHORT', length: chars.length, min: SEQUENCE_KEY_MIN_LENGTH });
  }
  if (chars.length > SEQUENCE_KEY_MAX_LENGTH) {
    issues.push({ code: 'TOO_LONG', length: chars.length, max: SEQUENCE_KEY_MAX_LENGTH });
  }

  const whitespace: number[] = [];
  const disallowed: { character: string; codePoint: string; kind: DisallowedKind }[] = [];
  const seen = new Set<string>();
  const repeated: string[] = [];
  chars.forEach((char, position) => {
    if (WHITESPACE.test(char)) whitespace.push(position);
    else if (!ALLOWED.test(char)) disallowed.push({ character: char, codePoint: codePointLabel(char), kind: disallowedKind(char) });
    if (seen.has(char)) {
      if (!repeated.includes(char)) repeated.push(char);
    } else {
      seen.add(char);
    }
  });
  if (whitespace.length > 0) issues.push({ code: 'WHITESPACE', positions: whitespace });
  if (repeated.length > 0) issues.push({ code: 'REPEATED', characters: repeated });
  if (disallowed.length > 0) issues.push({ code: 'DISALLOWED_CHARACTER', characters: disallowed });

  if (issues.length > 0) return { ok: false, issues, messages: issues.map(describeSequenceKeyIssue) };
  return { ok: true, key: { text, chars, n: chars.length } };
}

/** Like `validateSequenceKey`, but throws `SequenceKeyInvalidError` (code SEQUENCE_KEY_INVALID). */
export function parseSequenceKey(input: string | SequenceKey): SequenceKey {
  if (typeof input !== 'string') return parseSequenceKey(input.text);
  const result = validateSequenceKey(input);
  if (!result.ok) throw new SequenceKeyInvalidError(result.issues, result.messages);
  return result.key;
}

const GENERATED_ALPHABET = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A valid key of `length` distinct characters, drawn without look-alikes (no 0/O, 1/l/I) so it can be
 * read aloud or typed from paper. Uses rejection sampling, so every permutation is equally likely.
 */
export function generateSequenceKey(length = 10, randomBytes: (n: number) => Uint8Array = defaultRandomBytes): SequenceKey {
  if (!Number.isInteger(length) || length < SEQUENCE_KEY_MIN_LENGTH || length > Math.min(SEQUENCE_KEY_MAX_LENGTH, GENERATED_ALPHABET.length)) {
    throw new RangeError(`length must be an integer from ${SEQUENCE_KEY_MIN_LENGTH} to ${Math.min(SEQUENCE_KEY_MAX_LENGTH, GENERATED_ALPHABET.length)}`);
  }
  const pool = Array.from(GENERATED_ALPHABET);
  const picked: string[] = [];
  while (picked.length < length) {
    for (const byte of randomBytes(32)) {
      const limit = 256 - (256 % pool.length);
      if (byte >= limit) continue;
      picked.push(pool.splice(byte % pool.length, 1)[0]!);
      if (picked.length === length) break;
    }
  }
  return parseSequenceKey(picked.join(''));
}

function defaultRandomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
