import { asBufferSource, utf8Encoder } from './bytes.js';
import { InputInvalidError } from './errors.js';

/** Record keys are 128-bit, as the paper specifies AES-128. */
export const RECORD_KEY_LENGTH = 16;

/**
 * HKDF info labels, one per purpose, so that no key is ever used by two algorithms
 * (the keychain pattern of Firefox Send). Changing a label is a format change.
 */
export const KEY_LABELS = {
  encryption: 'ehr-vault/v1/aes-128-gcm',
  commitment: 'ehr-vault/v1/key-commitment',
  fragments: 'ehr-vault/v1/fragment-mac',
  objectNames: 'ehr-vault/v1/object-names',
} as const;

/** All keys derived from one record key. Non-extractable: only the record key itself can be exported. */
export interface RecordKeys {
  readonly encryption: CryptoKey;
  readonly commitment: CryptoKey;
  readonly fragments: CryptoKey;
  readonly objectNames: CryptoKey;
}

export type RandomBytes = (length: number) => Uint8Array;

/** `getRandomValues` takes at most 64 KiB per call; everything we draw is far smaller. */
export const systemRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

export function generateRecordKey(randomBytes: RandomBytes = systemRandomBytes): Uint8Array {
  return randomBytes(RECORD_KEY_LENGTH);
}

async function hkdf(master: CryptoKey, label: string, bits: number): Promise<Uint8Array> {
  const derived = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8Encoder.encode(label) },
    master,
    bits,
  );
  return new Uint8Array(derived);
}

async function hmacKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', asBufferSource(raw), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

export async function deriveRecordKeys(recordKey: Uint8Array): Promise<RecordKeys> {
  if (!(recordKey instanceof Uint8Array) || recordKey.length !== RECORD_KEY_LENGTH) {
    throw new InputInvalidError(`A record key is ${RECORD_KEY_LENGTH} bytes.`, { length: recordKey?.length });
  }
  const master = await crypto.subtle.importKey('raw', asBufferSource(recordKey), 'HKDF', false, ['deriveBits']);
  const [enc, commit, frag, names] = await Promise.all([
    hkdf(master, KEY_LABELS.encryption, 128),
    hkdf(master, KEY_LABELS.commitment, 256),
    hkdf(master, KEY_LABELS.fragments, 256),
    hkdf(master, KEY_LABELS.objectNames, 256),
  ]);
  const [encryption, commitment, fragments, objectNames] = await Promise.all([
    crypto.subtle.importKey('raw', asBufferSource(enc), { name: 'AES-GCM', length: 128 }, false, ['encrypt', 'decrypt']),
    hmacKey(commit),
    hmacKey(frag),
    hmacKey(names),
  ]);
  // The derived raw bytes are no longer needed; clearing them shortens their life in memory.
  for (const bytes of [enc, commit, frag, names]) bytes.fill(0);
  return { encryption, commitment, fragments, objectNames };
}

export async function hmacSha256(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, asBufferSource(data)));
}
