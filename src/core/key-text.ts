import { BASE64URL_ALPHABET, fromBase64Url, toBase64Url } from './bytes.js';
import { KeyTextInvalidError } from './errors.js';
import { RECORD_KEY_LENGTH } from './keychain.js';

/** Versioned prefix: a later key format gets a new prefix, and old texts keep working. */
export const KEY_TEXT_PREFIX = 'ehrvk1.';
const BODY_LENGTH = 22; // 16 bytes in unpadded base64url
export const KEY_TEXT_LENGTH = KEY_TEXT_PREFIX.length + BODY_LENGTH + 1;

/**
 * Luhn mod 64 over the base64url alphabet: detects every single mistyped character and every swap of two
 * adjacent different characters, before any decryption is tried.
 */
function luhnSum(values: readonly number[], checkIncluded: boolean): number {
  const n = 64;
  let sum = 0;
  let factor = checkIncluded ? 1 : 2;
  for (let i = values.length - 1; i >= 0; i--) {
    const addend = factor * values[i]!;
    sum += Math.floor(addend / n) + (addend % n);
    factor = factor === 2 ? 1 : 2;
  }
  return sum % n;
}

function checkCharacter(body: string): string {
  const values = Array.from(body, (c) => BASE64URL_ALPHABET.indexOf(c));
  return BASE64URL_ALPHABET[(64 - luhnSum(values, false)) % 64]!;
}

/** `ehrvk1.` ‖ base64url(key) ‖ one check character: 30 characters, safe in URLs, QR codes and chat. */
export function encodeKeyText(recordKey: Uint8Array): string {
  if (recordKey.length !== RECORD_KEY_LENGTH) throw new KeyTextInvalidError('length', 'A record key is 16 bytes.');
  const body = toBase64Url(recordKey);
  return KEY_TEXT_PREFIX + body + checkCharacter(body);
}

/** Accepts what people paste: surrounding or embedded whitespace and line breaks are ignored. */
export function decodeKeyText(input: string): Uint8Array {
  const text = input.replace(/\s|\u200B|\u200C|\u200D|\uFEFF/gu, '');
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
  if (luhnSum(values, true) !== 0) throw new KeyTextInvalidError('checksum', 'The record key has a typing mistake: its check character does not match.');
  try {
    return fromBase64Url(rest.slice(0, BODY_LENGTH));
  } catch {
    throw new KeyTextInvalidError('non-canonical', 'The record key is not in its standard form.');
  }
}
