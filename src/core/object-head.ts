import { asBufferSource, concatBytes, readU16, readU32, readU64, utf8Encoder, writeU16, writeU32, writeU64 } from './bytes.js';
import { FragmentError } from './errors.js';
import { KDF_LIMITS, KDF_SALT_LENGTH, type KdfParams } from './kdf.js';
import { systemRandomBytes, type RandomBytes } from './keychain.js';
import { SEQUENCE_KEY_MAX_LENGTH, SEQUENCE_KEY_MIN_LENGTH } from './sequence-key.js';

/** FORMAT.md §4.1: nonce (12) ‖ AES-GCM(64 bytes of fields) ‖ tag (16). */
export const OBJECT_VERSION = 2;
export const HEAD_LENGTH = 92;
const HEAD_FIELDS_LENGTH = 64;
export const HEAD_NONCE_LENGTH = 12;
const NONCE_LENGTH = HEAD_NONCE_LENGTH;
export const CHECK_LENGTH = 16;
export const MAX_PARITY_OBJECTS = 64;
const KDF_ARGON2ID = 1;
const HEAD_AAD_LABEL = utf8Encoder.encode('EHRV2 object-head\0');

export interface HeadFields {
  readonly version: number;
  readonly kind: 'data' | 'parity';
  readonly n: number;
  readonly parityCount: number;
  readonly slot: number;
  readonly kdf: KdfParams;
  readonly bodyLength: number;
  /** First 16 bytes of HMAC(K_check, "EHRV2 sequence-check"): tells a wrong sequence key from damage. */
  readonly check: Uint8Array;
  readonly parityAlgorithm: number;
  /** The Argon2id salt (§3): random per protect batch, so one Argon2id serves every record of the batch. */
  readonly kdfSalt: Uint8Array;
}

/** The head's additional data: label ‖ record id (§4.1). */
export function headAad(recordId: Uint8Array): Uint8Array {
  return concatBytes([HEAD_AAD_LABEL, recordId]);
}

export function encodeHeadFields(f: HeadFields): Uint8Array {
  const out = new Uint8Array(HEAD_FIELDS_LENGTH);
  out[0] = f.version;
  out[1] = f.kind === 'data' ? 0 : 1;
  writeU16(out, 2, f.n);
  writeU16(out, 4, f.parityCount);
  writeU16(out, 6, f.slot);
  out[8] = KDF_ARGON2ID;
  out[9] = f.kdf.parallelism;
  writeU16(out, 10, f.kdf.passes);
  writeU32(out, 12, f.kdf.memoryKiB);
  writeU64(out, 16, f.bodyLength);
  out.set(f.check.subarray(0, CHECK_LENGTH), 24);
  out[40] = f.parityAlgorithm;
  out.set(f.kdfSalt.subarray(0, KDF_SALT_LENGTH), 48);
  return out;
}

/** Seals one object head under K_head with a fresh random nonce. */
export async function sealHead(headKey: CryptoKey, recordId: Uint8Array, fields: HeadFields, randomBytes: RandomBytes = systemRandomBytes): Promise<Uint8Array> {
  const nonce = randomBytes(NONCE_LENGTH);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: asBufferSource(nonce), additionalData: asBufferSource(headAad(recordId)) }, headKey, asBufferSource(encodeHeadFields(fields)));
  return concatBytes([nonce, new Uint8Array(sealed)]);
}

/** Opens a head (§9 step 4); undefined when it does not authenticate under this record key and id. */
export async function openHeadBytes(headKey: CryptoKey, recordId: Uint8Array, head: Uint8Array): Promise<Uint8Array | undefined> {
  if (head.length < HEAD_LENGTH) return undefined;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: asBufferSource(head.slice(0, NONCE_LENGTH)), additionalData: asBufferSource(headAad(recordId)) },
      headKey,
      asBufferSource(head.subarray(NONCE_LENGTH, HEAD_LENGTH)),
    );
    return new Uint8Array(plain);
  } catch {
    return undefined;
  }
}

const inRange = (v: number, lo: number, hi: number) => v >= lo && v <= hi;

/**
 * Judges authentic head fields (§9 steps 5 and 6): version first, then every range. Only a holder of the
 * record key can have written them, so these errors mean a faulty or hostile writer, never the cloud.
 */
export function decodeHeadFields(bytes: Uint8Array, source: number): HeadFields {
  const version = bytes[0]!;
  if (version !== OBJECT_VERSION) {
    throw new FragmentError('FRAGMENT_UNSUPPORTED', `Object #${source + 1} was made by a version of EHR Vault this one cannot read (object format ${version}).`, 'Update EHR Vault and try again.', { sources: [source], version });
  }
  const kindByte = bytes[1]!;
  const n = readU16(bytes, 2);
  const parityCount = readU16(bytes, 4);
  const slot = readU16(bytes, 6);
  const kdfId = bytes[8]!;
  const kdf: KdfParams = { parallelism: bytes[9]!, passes: readU16(bytes, 10), memoryKiB: readU32(bytes, 12) };
  const bodyLength = readU64(bytes, 16);
  const parityAlgorithm = bytes[40]!;
  const reservedZero = bytes.subarray(41, 48).every((b) => b === 0);
  const ok =
    kindByte <= 1 &&
    inRange(n, SEQUENCE_KEY_MIN_LENGTH, SEQUENCE_KEY_MAX_LENGTH) &&
    parityCount <= MAX_PARITY_OBJECTS &&
    slot < n + parityCount &&
    kindByte === (slot >= n ? 1 : 0) &&
    kdfId === KDF_ARGON2ID &&
    inRange(kdf.parallelism, ...KDF_LIMITS.parallelism) &&
    inRange(kdf.passes, ...KDF_LIMITS.passes) &&
    inRange(kdf.memoryKiB, ...KDF_LIMITS.memoryKiB) &&
    bodyLength > 52 &&
    Number.isSafeInteger(bodyLength) &&
    (parityCount === 0 ? parityAlgorithm === 0 : parityAlgorithm === 1) &&
    reservedZero;
  if (!ok) {
    throw new FragmentError('FRAGMENT_MALFORMED', `Object #${source + 1} has a head this version cannot accept.`, 'The record was written by a faulty program; ask the sender to protect it again.', { sources: [source] });
  }
  return { version, kind: kindByte === 0 ? 'data' : 'parity', n, parityCount, slot, kdf, bodyLength, check: bytes.slice(24, 40), parityAlgorithm, kdfSalt: bytes.slice(48, 64) };
}

/** Two heads of one protection agree on everything but the slot (§9 step 8). */
export function sameProtection(a: HeadFields, b: HeadFields): boolean {
  return (
    a.n === b.n &&
    a.parityCount === b.parityCount &&
    a.kdf.memoryKiB === b.kdf.memoryKiB &&
    a.kdf.passes === b.kdf.passes &&
    a.kdf.parallelism === b.kdf.parallelism &&
    a.bodyLength === b.bodyLength &&
    a.parityAlgorithm === b.parityAlgorithm &&
    a.check.every((v, i) => v === b.check[i]) &&
    a.kdfSalt.every((v, i) => v === b.kdfSalt[i])
  );
}
