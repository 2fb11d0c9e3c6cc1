import { concatBytes, fromBase64Url, toBase64Url, utf8Encoder, writeU16 } from './bytes.js';
import { InputInvalidError } from './errors.js';
import { hmacSha256, systemRandomBytes, type LocatorKeys, type RandomBytes } from './keychain.js';

export const RECORD_ID_LENGTH = 16;
const LABEL = utf8Encoder.encode('EHRV2 object-name\0');
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A record id: 16 random bytes, shown as 22 base64url characters (the record locator). */
export function generateRecordId(randomBytes: RandomBytes = systemRandomBytes): string {
  return toBase64Url(randomBytes(RECORD_ID_LENGTH));
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * The cloud object name of fragment `position` of a record: 32 lowercase base32 characters of
 * HMAC(K_names, label ‖ record id ‖ u16 position). Names look random and unrelated, so the cloud
 * cannot tell which fragments belong together or in which order (FORMAT.md §2.3).
 */
export async function fragmentObjectName(keys: Pick<LocatorKeys, 'objectNames'>, recordId: string, position: number): Promise<string> {
  return objectNameFromMac(await hmacSha256(keys.objectNames, objectNameInput(recordId, position)));
}

/** label ‖ record id ‖ u16 position: what an object name's HMAC is computed over (§2.3). */
export function objectNameInput(recordId: string, position: number): Uint8Array {
  let id: Uint8Array;
  try {
    id = fromBase64Url(recordId);
  } catch {
    throw new InputInvalidError('A record id is 22 base64url characters.', { recordId });
  }
  if (id.length !== RECORD_ID_LENGTH || !Number.isInteger(position) || position < 0 || position > 0xffff) {
    throw new InputInvalidError('Bad record id or fragment position.', { recordId, position });
  }
  const pos = new Uint8Array(2);
  writeU16(pos, 0, position);
  return concatBytes([LABEL, id, pos]);
}

/** The name from its HMAC: the first 20 bytes in lowercase base32. */
export function objectNameFromMac(mac: Uint8Array): string {
  return base32(mac.subarray(0, 20));
}
