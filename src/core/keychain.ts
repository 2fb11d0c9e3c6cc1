import { asBufferSource, concatBytes, utf8Encoder } from './bytes.js';
import { InputInvalidError } from './errors.js';
import { KDF_OUTPUT_LENGTH } from './kdf.js';

/** Record keys are 128-bit, as the paper specifies AES-128. */
export const RECORD_KEY_LENGTH = 16;
export const RECORD_ID_BYTES = 16;

/**
 * HKDF info labels, one per purpose, so that no key is ever used by two algorithms (the keychain pattern
 * of Firefox Send: one place to audit). Changing a label is a format change (FORMAT.md §2, §3).
 */
export const KEY_LABELS = {
  objectNames: 'ehr-vault/v2/object-names',
  objectHead: 'ehr-vault/v2/object-head',
  parity: 'ehr-vault/v2/parity',
  encryption: 'ehr-vault/v2/aes-128-gcm',
  commitment: 'ehr-vault/v2/key-commitment',
  fragments: 'ehr-vault/v2/fragment-mac',
  wrap: 'ehr-vault/v2/object-wrap',
  check: 'ehr-vault/v2/sequence-check',
} as const;

/**
 * Keys a holder of the record key alone has (FORMAT.md §2): enough to find, authenticate the heads of,
 * verify and delete a record's objects — not to open them.
 */
export interface LocatorKeys {
  readonly objectNames: CryptoKey;
  readonly head: CryptoKey;
}

/** Keys that need the record key and the stretched sequence key (FORMAT.md §3). Non-extractable. */
export interface RecordKeys extends LocatorKeys {
  /** The Argon2id salt X was made with (bytes, not a key): written into every object head (§4.1). */
  readonly kdfSalt: Uint8Array;
  readonly encryption: CryptoKey;
  readonly commitment: CryptoKey;
  readonly fragments: CryptoKey;
  /** AES-CTR key that seals object bodies. */
  readonly wrap: CryptoKey;
  readonly check: CryptoKey;
}

export type RandomBytes = (length: number) => Uint8Array;

/** `getRandomValues` takes at most 64 KiB per call; everything we draw is far smaller. */
export const systemRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

export function generateRecordKey(randomBytes: RandomBytes = systemRandomBytes): Uint8Array {
  return randomBytes(RECORD_KEY_LENGTH);
}

async function hkdf(master: CryptoKey, salt: Uint8Array, label: string, bits: number): Promise<Uint8Array> {
  const derived = await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: asBufferSource(salt), info: utf8Encoder.encode(label) }, master, bits);
  return new Uint8Array(derived);
}

async function hmacKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', asBufferSource(raw), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function aesKey(raw: Uint8Array, name: 'AES-GCM' | 'AES-CTR'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', asBufferSource(raw), { name, length: 128 }, false, ['encrypt', 'decrypt']);
}

function checkRecordKey(recordKey: Uint8Array): void {
  if (!(recordKey instanceof Uint8Array) || recordKey.length !== RECORD_KEY_LENGTH) {
    throw new InputInvalidError(`A record key is ${RECORD_KEY_LENGTH} bytes.`, { length: recordKey?.length });
  }
}

/** Raw bytes of the K-only keys, for test vectors (`derived`); the app uses `deriveLocatorKeys`. */
export async function deriveLocatorBytes(recordKey: Uint8Array): Promise<{ objectNames: Uint8Array; head: Uint8Array }> {
  checkRecordKey(recordKey);
  const master = await crypto.subtle.importKey('raw', asBufferSource(recordKey), 'HKDF', false, ['deriveBits']);
  const empty = new Uint8Array(0);
  const [objectNames, head] = await Promise.all([hkdf(master, empty, KEY_LABELS.objectNames, 256), hkdf(master, empty, KEY_LABELS.objectHead, 128)]);
  return { objectNames, head };
}

export async function deriveLocatorKeys(recordKey: Uint8Array): Promise<LocatorKeys> {
  const raw = await deriveLocatorBytes(recordKey);
  const [objectNames, head] = await Promise.all([hmacKey(raw.objectNames), aesKey(raw.head, 'AES-GCM')]);
  raw.objectNames.fill(0);
  raw.head.fill(0);
  return { objectNames, head };
}

/** The parity key (FORMAT.md §4.4): K only, so the owner can repair without the sequence key. */
export async function deriveParityKey(recordKey: Uint8Array): Promise<CryptoKey> {
  checkRecordKey(recordKey);
  const master = await crypto.subtle.importKey('raw', asBufferSource(recordKey), 'HKDF', false, ['deriveBits']);
  const raw = await hkdf(master, new Uint8Array(0), KEY_LABELS.parity, 128);
  const key = await aesKey(raw, 'AES-CTR');
  raw.fill(0);
  return key;
}

export interface SecretKeyBytes {
  readonly encryption: Uint8Array;
  readonly commitment: Uint8Array;
  readonly fragments: Uint8Array;
  readonly wrap: Uint8Array;
  readonly check: Uint8Array;
}

/** PRK = HKDF-Extract(salt = record id, IKM = K ‖ X), then one Expand per label (FORMAT.md §3). */
export async function deriveSecretBytes(recordKey: Uint8Array, recordId: Uint8Array, stretched: Uint8Array): Promise<SecretKeyBytes> {
  checkRecordKey(recordKey);
  if (recordId.length !== RECORD_ID_BYTES || stretched.length !== KDF_OUTPUT_LENGTH) throw new InputInvalidError('Bad record id or stretched key length.');
  const ikm = concatBytes([recordKey, stretched]);
  const master = await crypto.subtle.importKey('raw', asBufferSource(ikm), 'HKDF', false, ['deriveBits']);
  ikm.fill(0);
  const [encryption, commitment, fragments, wrap, check] = await Promise.all([
    hkdf(master, recordId, KEY_LABELS.encryption, 128),
    hkdf(master, recordId, KEY_LABELS.commitment, 256),
    hkdf(master, recordId, KEY_LABELS.fragments, 256),
    hkdf(master, recordId, KEY_LABELS.wrap, 128),
    hkdf(master, recordId, KEY_LABELS.check, 256),
  ]);
  return { encryption, commitment, fragments, wrap, check };
}

/** All keys of a record, from the record key, record id and X = Argon2id(sequence key, kdfSalt) (kdf.ts). */
export async function deriveRecordKeys(recordKey: Uint8Array, recordId: Uint8Array, stretched: Uint8Array, kdfSalt: Uint8Array): Promise<RecordKeys> {
  const [locator, raw] = await Promise.all([deriveLocatorKeys(recordKey), deriveSecretBytes(recordKey, recordId, stretched)]);
  const [encryption, commitment, fragments, wrap, check] = await Promise.all([
    aesKey(raw.encryption, 'AES-GCM'),
    hmacKey(raw.commitment),
    hmacKey(raw.fragments),
    aesKey(raw.wrap, 'AES-CTR'),
    hmacKey(raw.check),
  ]);
  // The derived raw bytes are no longer needed; clearing them shortens their life in memory.
  for (const bytes of Object.values(raw)) bytes.fill(0);
  return { ...locator, kdfSalt: kdfSalt.slice(), encryption, commitment, fragments, wrap, check };
}

export async function hmacSha256(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, asBufferSource(data)));
}
