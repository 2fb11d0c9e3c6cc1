import type { ByteSource } from './byte-queue.js';
import { concatBytes } from './bytes.js';
import { EhrVaultError, EnvelopeError } from './errors.js';
import { HEADER_LENGTH, openStream, plannedEnvelopeLength, sealStream, type SealOptions } from './envelope.js';
import { payloadRange, tamperedFragments } from './fragments.js';
import { checkBatch, forgetBatch, stretchForBatch, type BatchKdf } from './batch-kdf.js';
import { DEFAULT_KDF, type KdfParams } from './kdf.js';
import { deriveParityKey, deriveRecordKeys, generateRecordKey, systemRandomBytes, type RecordKeys } from './keychain.js';
import { HEAD_LENGTH } from './object-head.js';
import { computeParityBodies, DEFAULT_PARITY } from './parity.js';
import type { RecordMetadata } from './metadata.js';
import { generateRecordId } from './object-names.js';
import { planOpen, plansWithoutDamage, recordIdBytes, type LocatedFragment, type ObjectAppender, type OpenPlan, type Stretch } from './open-objects.js';
import { wrapEnvelopeRange } from './object-wrap.js';
import { objectBodyLength } from './padding.js';
import { throwIfAborted, type LongOperationOptions } from './progress.js';
import { planObjects } from './seal-objects.js';
import { parseSequenceKey, type SequenceKey } from './sequence-key.js';

export interface ProtectOptions extends SealOptions, LongOperationOptions {
  /** A fresh random key is drawn when absent (the normal case). */
  readonly recordKey?: Uint8Array | undefined;
  /** A fresh random id is drawn when absent. */
  readonly recordId?: string | undefined;
  readonly kdf?: KdfParams | undefined;
  /** Replaces Argon2id (tests that cache it); the app always uses `stretchSequenceKey`. */
  readonly stretch?: Stretch | undefined;
  /**
   * X and its salt shared by a protect batch (batch-kdf.ts, FORMAT.md §3): no Argon2id runs here. Absent: a
   * batch of one (fresh salt, one Argon2id). `kdf` is then the batch's.
   */
  readonly batch?: BatchKdf | undefined;
  /** Without `batch`: the salt to use (test vectors); random when absent. */
  readonly kdfSalt?: Uint8Array | undefined;
  /** Parity objects p (FORMAT.md §4.4): any n of the n + p objects open the record. Default 2. */
  readonly parity?: number | undefined;
}

export interface ProtectedRecord {
  readonly recordKey: Uint8Array;
  readonly recordId: string;
  readonly sequenceKey: SequenceKey;
  /** The sealed objects in slot order: what the cloud stores. */
  readonly objects: Uint8Array[];
  readonly envelopeLength: number;
  /** The unsealed envelope, for test vectors only. */
  readonly envelope: Uint8Array;
}

/** Derives every key of a new record from its batch's X: no Argon2id here (FORMAT.md §3). */
export async function deriveKeysForProtect(recordKey: Uint8Array, recordId: string, key: SequenceKey, batch: BatchKdf): Promise<RecordKeys> {
  checkBatch(batch, key);
  return deriveRecordKeys(recordKey, recordIdBytes(recordId), batch.stretched, batch.salt);
}

/**
 * The paper's two layers and the seal, in memory: encrypt (AES-128-GCM STREAM), split by the sequence key,
 * seal each fragment into an object. Workers use the same pieces to stream large files into Blobs.
 */
export async function protectRecord(body: ByteSource, metadata: RecordMetadata, sequenceKey: string | SequenceKey, options: ProtectOptions = {}): Promise<ProtectedRecord> {
  const key = parseSequenceKey(sequenceKey);
  const random = options.randomBytes ?? systemRandomBytes;
  const recordKey = options.recordKey ?? generateRecordKey(random);
  const recordId = options.recordId ?? generateRecordId(random);
  const own = options.batch ? undefined : await stretchForBatch(key, options.kdf ?? DEFAULT_KDF, { randomBytes: random, salt: options.kdfSalt, stretch: options.stretch });
  const batch = (options.batch ?? own)!;
  const kdf = batch.kdf;
  let keys: RecordKeys;
  try {
    keys = await deriveKeysForProtect(recordKey, recordId, key, batch);
  } finally {
    forgetBatch(own);
  }
  const envelopeLength = plannedEnvelopeLength(metadata, options.chunkSize);
  const pieces: Uint8Array[] = [];
  for await (const piece of sealStream(keys, metadata, body, options)) pieces.push(piece);
  throwIfAborted(options.signal);
  const envelope = concatBytes(pieces);
  const parity = options.parity ?? DEFAULT_PARITY;
  const plan = await planObjects({ keys, recordId: recordIdBytes(recordId), sequenceKey: key, envelopeLength, kdf, randomBytes: random, parity });
  const sealed = await wrapEnvelopeRange(keys.wrap, plan.objects, 0, envelope);
  const objects = plan.objects.map((o) => concatBytes([o.head, o.sealedPrefix, sealed.subarray(o.payloadStart, o.payloadEnd), ...o.sealedTail]));
  if (parity > 0) {
    const n = key.n;
    const bodies = Array.from({ length: parity }, () => new Uint8Array(plan.bodyLength));
    await computeParityBodies(await deriveParityKey(recordKey), n, parity, plan.bodyLength, async (slot, start, end) => objects[slot]!.subarray(HEAD_LENGTH + start, HEAD_LENGTH + end), (r, offset, bytes) => bodies[r]!.set(bytes, offset));
    for (const [r, body] of bodies.entries()) objects.push(concatBytes([plan.parityHeads[r]!, body]));
  }
  return { recordKey, recordId, sequenceKey: key, objects, envelopeLength, envelope };
}

export interface OpenedRecord {
  readonly metadata: RecordMetadata;
  readonly body: Uint8Array;
}

export interface OpenRecordOptions extends LongOperationOptions {
  readonly stretch?: Stretch | undefined;
}

/**
 * Unseals, merges and decrypts objects given in any order (FORMAT.md §9), and returns the body only if
 * every byte checked out: on any failure nothing is returned and the partial buffer is wiped.
 */
export async function openRecord(objects: readonly Uint8Array[], sequenceKey: string | SequenceKey, recordKey: Uint8Array, recordId: string | Uint8Array, options: OpenRecordOptions = {}): Promise<OpenedRecord> {
  const key = parseSequenceKey(sequenceKey);
  const id = recordIdBytes(recordId);
  // Objects re-created from parity (FORMAT.md §4.4) are appended to this list.
  const list = [...objects];
  const read = async (source: number, start: number, end: number) => list[source]!.subarray(start, end);
  const append = (): ObjectAppender => {
    const parts: Uint8Array[] = [];
    return {
      push: (bytes) => void parts.push(bytes),
      finish: () => list.push(concatBytes(parts)) - 1,
    };
  };
  const plan = await planOpen(recordKey, id, key, objects.map((o) => o.length), read, options.stretch, { append });
  try {
    return await openPlanned(plan, key, list, options);
  } catch (error) {
    // §9 step 15 with parity: damage inside one payload is re-created from the other objects.
    for await (const alternative of plansWithoutDamage(plan, key, error, read)) {
      try {
        return await openPlanned(alternative, key, list, options);
      } catch {
        /* the next alternative */
      }
    }
    throw error;
  }
}

async function openPlanned(plan: OpenPlan, key: SequenceKey, list: readonly Uint8Array[], options: OpenRecordOptions): Promise<OpenedRecord> {
  const sealedEnvelope = concatBytes(plan.fragments.map((f) => list[f.source]!.subarray(f.objectOffset, f.objectOffset + (f.payloadEnd - f.payloadStart))));
  const envelope = await wrapEnvelopeRange(plan.keys.wrap, plan.fragments, 0, sealedEnvelope);
  let body: Uint8Array | undefined;
  try {
    // Checked before allocating: an authentic description must not make us allocate more than we hold.
    const opened = await openStream(plan.keys, [envelope], { ...options, expectedLength: plan.envelopeLength });
    checkSplit(plan);
    body = new Uint8Array(opened.metadata.byteLength);
    let offset = 0;
    for await (const chunk of opened.chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    throwIfAborted(options.signal);
    return { metadata: opened.metadata, body };
  } catch (error) {
    body?.fill(0);
    envelope.fill(0);
    throw blameFragments(error, key, plan.fragments, plan.parity?.inputCount);
  }
}

/**
 * §9 step 14: the envelope must be split as §8 says (near-equal payloads) and every object padded to the
 * canonical length, so that one record has exactly one encoding.
 */
export function checkSplit(plan: Pick<OpenPlan, 'head' | 'fragments' | 'envelopeLength'>): void {
  const T = plan.envelopeLength;
  const n = plan.fragments.length;
  const split = plan.fragments.every((f, i) => {
    const { start, end } = payloadRange(T, n, i);
    return f.payloadStart === start && f.payloadEnd === end;
  });
  if (!split || objectBodyLength(T, n) !== plan.head.bodyLength) {
    throw new EnvelopeError('ENVELOPE_MALFORMED', 'This is not a readable EHR Vault record: its fragments are not split or padded the standard way.', 'The record was written by a faulty program; ask the sender to protect it again.', { bodyLength: plan.head.bodyLength, envelopeLength: T });
  }
}

/**
 * After the frames authenticated, an AES-GCM failure inside the envelope is damage inside a payload: name
 * the fragments whose payloads hold the failing bytes (FORMAT.md §9 steps 13–15).
 */
export function blameFragments(error: unknown, key: SequenceKey, fragments: readonly LocatedFragment[], inputCount = Infinity): unknown {
  if (!(error instanceof EhrVaultError) || error.code !== 'ENVELOPE_TAMPERED') return error;
  const start = typeof error.details.offset === 'number' ? error.details.offset : 0;
  const end = start + (typeof error.details.length === 'number' ? error.details.length : HEADER_LENGTH);
  const hit = fragments.filter((f) => f.payloadStart < end && f.payloadEnd > start).map((f) => f.slot);
  const fragmentError = tamperedFragments(key, hit.length > 0 ? hit : [0], {
    sources: (hit.length > 0 ? hit : [0]).map((slot) => fragments[slot]!.source).filter((source) => source < inputCount),
    envelopeError: error.code,
    ...(typeof error.details.chunk === 'number' ? { chunk: error.details.chunk } : {}),
  });
  (fragmentError as { cause?: unknown }).cause = error;
  return fragmentError;
}

