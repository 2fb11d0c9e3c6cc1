import { BASE64URL_ALPHABET, fromBase64Url, toBase64Url } from './bytes.js';
import { KeyTextInvalidError } from './errors.js';
import { RECORD_KEY_LENGTH } from './keychain.js';

/** Versioned prefix: a later key format gets a new prefix, and old texts keep working. */
export const KEY_TEXT_PREFIX = 'ehrvk1.';
const BODY_LENGTH = 22; // 16 bytes in unpadded base64url
export const KEY_TEXT_LENGTH = KEY_TEXT_PREFIX.length + BODY_LENGTH + 1;

/** Multiplication by x in GF(2^6) with the primitive polynomial x^6 + x + 1. */
function timesX(value: number): number {
  const shifted = value << 1;
  return shifted & 0x40 ? (shifted ^ 0x43) & 0x3f : shifted;
}

/**
 * A Damm-style check over GF(64): state ← x·state ⊕ value for each character. Because x ∉ {0, 1}, this
 * quasigroup is weakly totally anti-symmetric, so the check detects every single mistyped character and
 * every swap of two adjacent different characters (Luhn mod 64 misses the swap of 'A' and '_').
 */
function checkState(values: readonly number[]): number {
  let state = 0;
  for (const value of values) state = timesX(state) ^ value;
  return state;
}

function checkCharacter(body: string): string {
  return BASE64URL_ALPHABET[timesX(checkState(Array.from(body, (c) => BASE64URL_ALPHABET.indexOf(c))))]!;
}

/** `ehrvk1.` ‖ base64url(key) ‖ one check character: 30 characters, safe in URLs, QR codes and chat. */
export function encodeKeyText(recordKey: Uint8Array): string {
  if (recordKey.length !== RECORD_KEY_LENGTH) throw new KeyTextInvalidError('length', 'A record key is 16 bytes.');
  const body = toBase64Url(recordKey);
  return KEY_TEXT_PREFIX + body + checkCharacter(body);
}

/** Accepts what people paste: surrounding or embedded whitespace and line breaks are ignored. */
export function decodeKeyText(input: string): Uint8Array {
  const text = input.replace(/[\p{White_Space}\u200B-\u200D\uFEFF]/gu, '');
  if (!text.toLowerCase().startsWith(KEY_TEXT_PREFIX)) {
    throw new KeyTextInvalidError('prefix', `This is not an EHR Vault record key: it should start with "${KEY_TEXT_PREFIX}".`);
  }
  const rest = text.slice(KEY_TEXT_PREFIX.length);
  if (rest.length !== BODY_LENGTH + 1) {
    throw new KeyTextInvalidError('length', `The record key has ${text.length} characters; it should have ${KEY_TEXT_LENGTH}. Part of it may be missing.`, { length: text.length });
  }
  const values: number[] = [];
  for (const [i, char] of Array.from(rest).entries()) {
    const value = BASE64URL_ALPHABET.indexOf(char);
    if (value < 0) throw new KeyTextInvalidError('character', `Character ${KEY_TEXT_PREFIX.length + i + 1} ("${char}") cannot appear in a record key.`, { position: KEY_TEXT_PREFIX.length + i });
    values.push(value);
  }
  if (checkState(values) !== 0) throw new KeyTextInvalidError('checksum', 'The record key has a typing mistake: its check character does not match.');
  try {
    return fromBase64Url(rest.slice(0, BODY_LENGTH));
  } catch {
    throw new KeyTextInvalidError('non-canonical', 'The record key is not in its standard form.');
  }
}
