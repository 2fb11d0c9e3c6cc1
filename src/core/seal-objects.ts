import { hmacSha256, systemRandomBytes, type RandomBytes, type RecordKeys } from './keychain.js';
import { utf8Encoder } from './bytes.js';
import { planFragments, type PlannedFragment } from './fragments.js';
import { CHECK_LENGTH, OBJECT_VERSION, sealHead, type HeadFields } from './object-head.js';
import { wrapAt } from './object-wrap.js';
import { objectBodyLength } from './padding.js';
import type { KdfParams } from './kdf.js';
import type { SequenceKey } from './sequence-key.js';
import { checkParityCount, PARITY_ALGORITHM_RS } from './parity.js';

/** HMAC(K_check, this)[0:16] is the head's sequence check (FORMAT.md §4.1). */
export const SEQUENCE_CHECK_LABEL = utf8Encoder.encode('EHRV2 sequence-check');
const CHECK_LABEL = SEQUENCE_CHECK_LABEL;
/** Padding is sealed in pieces of this size so a large record's padding never sits in memory at once. */
const TAIL_PIECE = 4 * 1024 * 1024;

export async function sequenceCheck(keys: Pick<RecordKeys, 'check'>): Promise<Uint8Array> {
  return (await hmacSha256(keys.check, CHECK_LABEL)).subarray(0, CHECK_LENGTH);
}

/** One object to write: its sealed head and frame parts around the (separately sealed) payload. */
export interface ObjectPlan extends PlannedFragment {
  readonly slot: number;
  /** The 92-byte sealed head. */
  readonly head: Uint8Array;
  /** The frame's prefix, sealed. */
  readonly sealedPrefix: Uint8Array;
  /** Next character ‖ MAC ‖ zero padding, sealed, in pieces of at most 4 MiB. */
  readonly sealedTail: Uint8Array[];
}

export interface ObjectsPlan {
  readonly bodyLength: number;
  readonly objects: ObjectPlan[];
  /** The sealed heads of the parity objects, slots n … n + p − 1 (their bodies: parity.ts). */
  readonly parityHeads: Uint8Array[];
}

export interface PlanObjectsOptions {
  readonly keys: RecordKeys;
  readonly recordId: Uint8Array;
  readonly sequenceKey: SequenceKey;
  readonly envelopeLength: number;
  readonly kdf: KdfParams;
  readonly randomBytes?: RandomBytes | undefined;
  /** Parity objects p (FORMAT.md §4.4); 0 when absent. */
  readonly parity?: number | undefined;
}

/**
 * Everything of a record's objects except the payload bytes (FORMAT.md §4, §8): the envelope length is
 * fixed by the metadata, so objects are planned before anything is encrypted and the payloads are then
 * sealed where they are produced (`wrapEnvelopeRange`).
 */
export async function planObjects(o: PlanObjectsOptions): Promise<ObjectsPlan> {
  const fragments = await planFragments(o.keys, o.sequenceKey, o.envelopeLength);
  const n = o.sequenceKey.n;
  const bodyLength = objectBodyLength(o.envelopeLength, n);
  const check = await sequenceCheck(o.keys);
  const random = o.randomBytes ?? systemRandomBytes;
  const parityCount = o.parity ?? 0;
  checkParityCount(parityCount);
  const parityAlgorithm = parityCount > 0 ? PARITY_ALGORITHM_RS : 0;
  // All heads and frame pieces are sealed at once (each is an async WebCrypto call: in sequence they were
  // most of a small record's time, docs/CLI.md). `sealHead` draws its nonce before its first await, and the
  // calls start in slot order, data slots then parity slots, so test vectors still give nonces in that order.
  const objectsPending = fragments.map(async (f, slot): Promise<ObjectPlan> => {
    const fields: HeadFields = { version: OBJECT_VERSION, kind: 'data', n, parityCount, slot, kdf: o.kdf, bodyLength, check, parityAlgorithm, kdfSalt: o.keys.kdfSalt };
    const headPending = sealHead(o.keys.head, o.recordId, fields, random);
    const tailStart = f.prefixLength + (f.payloadEnd - f.payloadStart);
    const tailLength = bodyLength - tailStart;
    const tailPending: Promise<Uint8Array>[] = [];
    for (let at = 0; at < tailLength; at += TAIL_PIECE) {
      const piece = new Uint8Array(Math.min(TAIL_PIECE, tailLength - at));
      if (at === 0) piece.set(f.suffix, 0);
      tailPending.push(wrapAt(o.keys.wrap, slot, tailStart + at, piece));
    }
    const [head, sealedPrefix, sealedTail] = await Promise.all([headPending, wrapAt(o.keys.wrap, slot, 0, f.prefix), Promise.all(tailPending)]);
    return { ...f, slot, head, sealedPrefix, sealedTail };
  });
  const parityPending: Promise<Uint8Array>[] = [];
  for (let slot = n; slot < n + parityCount; slot++) {
    parityPending.push(sealHead(o.keys.head, o.recordId, { version: OBJECT_VERSION, kind: 'parity', n, parityCount, slot, kdf: o.kdf, bodyLength, check, parityAlgorithm, kdfSalt: o.keys.kdfSalt }, random));
  }
  const [objects, parityHeads] = await Promise.all([Promise.all(objectsPending), Promise.all(parityPending)]);
  return { bodyLength, objects, parityHeads };
}
