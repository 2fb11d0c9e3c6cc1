import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import { checkChunkSize, envelopeLength, nonce, NONCE_PREFIX_LENGTH, parseEnvelopeHeader, TAG_LENGTH, uncommittedHeader, bodyChunkCount, COMMITTED_LENGTH, type EnvelopeHeader } from '../core/envelope-header.js';
import { InputInvalidError } from '../core/errors.js';
import { frameFieldsAt, frameMacInput, framePrefix, frameSuffix, type PlannedFragment } from '../core/fragments.js';
import { KDF_OUTPUT_LENGTH } from '../core/kdf.js';
import { KEY_LABELS, RECORD_ID_BYTES, RECORD_KEY_LENGTH, type RandomBytes } from '../core/keychain.js';
import { encodeMetadataBlock, type RecordMetadata } from '../core/metadata.js';
import { CHECK_LENGTH, encodeHeadFields, headAad, HEAD_NONCE_LENGTH, type HeadFields } from '../core/object-head.js';
import { objectNameFromMac, objectNameInput } from '../core/object-names.js';
import { SEQUENCE_CHECK_LABEL } from '../core/seal-objects.js';
import type { SequenceKey } from '../core/sequence-key.js';

/**
 * The small cryptographic steps of sealing one record (FORMAT.md §2–§8: key derivation, object names, heads,
 * frame MACs, the sequence check, the envelope header and its metadata segment) on node:crypto, synchronously.
 * The core does them through WebCrypto, where Node runs every call as a job on the libuv pool: ≈ 60 calls of
 * 20–60 µs each made 1.4–1.6 ms per record, most of a small file's cost (a CT slice of 512 KiB), and the
 * command line protects millions of them. Same bytes as the core: tests/cli/node-record-crypto.test.ts checks
 * each step against the core's, and tests/cli/fast-seal.test.ts every positive test vector.
 *
 * The key bytes live in this thread's memory for one record and are wiped by `wipeRecordKeyBytes`; the core's
 * non-extractable CryptoKeys protect against script in a page, which the command line does not have.
 */
export interface RecordKeyBytes {
  /** From the record key alone (§2). */
  readonly objectNames: Uint8Array;
  readonly head: Uint8Array;
  readonly parity: Uint8Array;
  /** From the record key and X (§3). */
  readonly encryption: Uint8Array;
  readonly commitment: Uint8Array;
  readonly fragments: Uint8Array;
  readonly wrap: Uint8Array;
  readonly check: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function expand(ikm: Uint8Array, salt: Uint8Array, label: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, label, length));
}

/** Every key of a record (FORMAT.md §2, §3): HKDF-SHA-256 of K (salt empty) and of K ‖ X (salt = record id). */
export function recordKeyBytes(recordKey: Uint8Array, recordId: Uint8Array, stretched: Uint8Array): RecordKeyBytes {
  if (recordKey.length !== RECORD_KEY_LENGTH || recordId.length !== RECORD_ID_BYTES || stretched.length !== KDF_OUTPUT_LENGTH) {
    throw new InputInvalidError('Bad record key, record id or stretched key length.');
  }
  const ikm = new Uint8Array(recordKey.length + stretched.length);
  ikm.set(recordKey, 0);
  ikm.set(stretched, recordKey.length);
  try {
    return {
      objectNames: expand(recordKey, EMPTY, KEY_LABELS.objectNames, 32),
      head: expand(recordKey, EMPTY, KEY_LABELS.objectHead, 16),
      parity: expand(recordKey, EMPTY, KEY_LABELS.parity, 16),
      encryption: expand(ikm, recordId, KEY_LABELS.encryption, 16),
      commitment: expand(ikm, recordId, KEY_LABELS.commitment, 32),
      fragments: expand(ikm, recordId, KEY_LABELS.fragments, 32),
      wrap: expand(ikm, recordId, KEY_LABELS.wrap, 16),
      check: expand(ikm, recordId, KEY_LABELS.check, 32),
    };
  } finally {
    ikm.fill(0);
  }
}

export function wipeRecordKeyBytes(keys: RecordKeyBytes): void {
  for (const bytes of Object.values(keys) as Uint8Array[]) bytes.fill(0);
}

export function hmacSha256Sync(key: Uint8Array, data: Uint8Array): Uint8Array {
  const mac = createHmac('sha256', key).update(data).digest();
  return new Uint8Array(mac.buffer, mac.byteOffset, mac.length);
}

/** AES-128-GCM with a 16-byte tag: ciphertext ‖ tag, as WebCrypto's encrypt returns it. */
function gcmSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array {
  const gcm = createCipheriv('aes-128-gcm', key, iv, { authTagLength: TAG_LENGTH });
  gcm.setAAD(aad);
  const body = gcm.update(plain);
  gcm.final();
  const out = new Uint8Array(body.length + TAG_LENGTH);
  out.set(body, 0);
  out.set(gcm.getAuthTag(), body.length);
  return out;
}

/** core `fragmentObjectName`. */
export function objectNameSync(objectNamesKey: Uint8Array, recordId: string, position: number): string {
  return objectNameFromMac(hmacSha256Sync(objectNamesKey, objectNameInput(recordId, position)));
}

/** core `sealHead`: draws its nonce from `random` when called, as the core does. */
export function sealHeadSync(headKey: Uint8Array, recordId: Uint8Array, fields: HeadFields, random: RandomBytes): Uint8Array {
  const iv = random(HEAD_NONCE_LENGTH);
  const sealed = gcmSeal(headKey, iv, headAad(recordId), encodeHeadFields(fields));
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv, 0);
  out.set(sealed, iv.length);
  return out;
}

/** core `sequenceCheck`. */
export function sequenceCheckSync(checkKey: Uint8Array): Uint8Array {
  return hmacSha256Sync(checkKey, SEQUENCE_CHECK_LABEL).slice(0, CHECK_LENGTH);
}

/** core `planFragments`. */
export function planFragmentsSync(fragmentsKey: Uint8Array, key: SequenceKey, totalLength: number): PlannedFragment[] {
  if (totalLength < key.n) throw new InputInvalidError('The envelope is shorter than the number of fragments.');
  return key.chars.map((_, position) => {
    const { payloadStart, payloadEnd, ...fields } = frameFieldsAt(key, totalLength, position);
    const prefix = framePrefix(fields);
    const suffix = frameSuffix(fields, hmacSha256Sync(fragmentsKey, frameMacInput(fields)));
    return { ...fields, prefix, suffix, payloadStart, payloadEnd, prefixLength: prefix.length };
  });
}

/** What core `EnvelopeSealer.create` fixes before the body: the header, its metadata segment, the lengths. */
export interface EnvelopeHead {
  readonly header: EnvelopeHeader;
  /** Header ‖ metadata segment: the envelope's first bytes. */
  readonly head: Uint8Array;
  readonly chunkCount: number;
  readonly totalLength: number;
  chunkPlaintextLength(index: number): number;
}

/**
 * core `EnvelopeSealer.create` (FORMAT.md §5–§7): draws the nonce prefix, commits to the key, seals the
 * metadata block under counter 0. The body's chunks take counters 1 … chunkCount, each once (fast-seal.ts).
 */
export function envelopeHeadSync(keys: Pick<RecordKeyBytes, 'encryption' | 'commitment'>, metadata: RecordMetadata, random: RandomBytes, chunkSize: number): EnvelopeHead {
  checkChunkSize(chunkSize, metadata.byteLength);
  const block = encodeMetadataBlock(metadata);
  const noncePrefix = random(NONCE_PREFIX_LENGTH);
  if (noncePrefix.length !== NONCE_PREFIX_LENGTH) throw new InputInvalidError('randomBytes returned the wrong length.');
  const bytes = uncommittedHeader(chunkSize, block.length + TAG_LENGTH, noncePrefix);
  bytes.set(hmacSha256Sync(keys.commitment, bytes.subarray(0, COMMITTED_LENGTH)), COMMITTED_LENGTH);
  const header = parseEnvelopeHeader(bytes);
  const segment = gcmSeal(keys.encryption, nonce(noncePrefix, 0, false), header.bytes, block);
  const head = new Uint8Array(header.bytes.length + segment.length);
  head.set(header.bytes, 0);
  head.set(segment, header.bytes.length);
  const chunkCount = bodyChunkCount(metadata.byteLength, chunkSize);
  return {
    header,
    head,
    chunkCount,
    totalLength: envelopeLength(metadata.byteLength, chunkSize, header.metadataLength),
    chunkPlaintextLength: (index) => (index < chunkCount - 1 ? chunkSize : metadata.byteLength - chunkSize * (chunkCount - 1)),
  };
}
