import { constantTimeEqual, fromBase64Url } from './bytes.js';
import { FragmentError, WrongRecordKeyError, WrongSequenceKeyError } from './errors.js';
import { checkChain, readFrameHead, readFrameTail, tamperedFragments, type FrameFields } from './fragments.js';
import { stretchSequenceKey, type KdfParams } from './kdf.js';
import { deriveLocatorKeys, deriveRecordKeys, RECORD_ID_BYTES, type RecordKeys } from './keychain.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes, sameProtection, type HeadFields } from './object-head.js';
import { wrapAt, type PayloadPlacement } from './object-wrap.js';
import { sequenceCheck } from './seal-objects.js';
import type { SequenceKey } from './sequence-key.js';
import { InputInvalidError } from './errors.js';

/** Reads bytes [start, end) of object `source` (in memory: a subarray; in a Worker: a Blob slice). */
export type ObjectReader = (source: number, start: number, end: number) => Promise<Uint8Array>;
export type Stretch = (key: SequenceKey, salt: Uint8Array, params: KdfParams) => Promise<Uint8Array>;

/** A data fragment located inside its object, in merge order. */
export interface LocatedFragment extends PayloadPlacement {
  readonly slot: number;
  readonly source: number;
  readonly indexChar: string;
  /** Where the payload starts inside the object (head + frame prefix). */
  readonly objectOffset: number;
}

export interface OpenPlan {
  readonly keys: RecordKeys;
  readonly head: HeadFields;
  /** Indexed by slot, in the order the chain visits them (s₀ first). */
  readonly fragments: LocatedFragment[];
  readonly envelopeLength: number;
}

export function recordIdBytes(recordId: string | Uint8Array): Uint8Array {
  if (recordId instanceof Uint8Array) {
    if (recordId.length === RECORD_ID_BYTES) return recordId;
  } else {
    try {
      const bytes = fromBase64Url(recordId);
      if (bytes.length === RECORD_ID_BYTES && recordId.length === 22) return bytes;
    } catch {
      /* reported below */
    }
  }
  throw new InputInvalidError('A record id is 16 bytes (22 base64url characters).');
}

const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);

/**
 * §9 steps 2–8: authenticates every head with the record key alone and checks that the objects form one
 * protection. Needs only the first 76 bytes and the length of each object.
 */
export async function inspectObjects(recordKey: Uint8Array, recordId: Uint8Array, key: SequenceKey, lengths: readonly number[], read: ObjectReader): Promise<{ head: HeadFields; bySlot: Map<number, number> }> {
  if (lengths.length === 0) {
    throw new FragmentError('FRAGMENT_MISSING', 'No fragments were given.', 'Add all fragments of the record.', { missing: key.chars, positions: key.chars.map((_, i) => i) });
  }
  const short = lengths.flatMap((length, source) => (length < HEAD_LENGTH ? [source] : []));
  if (short.length > 0) {
    throw new FragmentError('FRAGMENT_TRUNCATED', `${plural(short.length, 'An object is', 'Objects are')} cut short (#${short.map((s) => s + 1).join(', #')}).`, 'Download the record again.', { sources: short });
  }
  const locator = await deriveLocatorKeys(recordKey);
  const opened = await Promise.all(lengths.map(async (_, source) => openHeadBytes(locator.head, recordId, await read(source, 0, HEAD_LENGTH))));
  const foreign = opened.flatMap((h, source) => (h ? [] : [source]));
  if (foreign.length === lengths.length) throw new WrongRecordKeyError('None of these objects belong to this record key.', { sources: foreign });
  if (foreign.length > 0) {
    throw new FragmentError('FRAGMENT_FOREIGN', `${plural(foreign.length, 'An object does', 'Some objects do')} not belong to this record (#${foreign.map((s) => s + 1).join(', #')}).`, 'Remove objects of other records, or download the record again if one was damaged.', { sources: foreign });
  }
  const heads = judgeHeads(opened as Uint8Array[]);
  const malformed = heads.flatMap((h, source) => (lengths[source]! > HEAD_LENGTH + h.bodyLength ? [source] : []));
  const truncated = heads.flatMap((h, source) => (lengths[source]! < HEAD_LENGTH + h.bodyLength ? [source] : []));
  if (truncated.length > 0) throw new FragmentError('FRAGMENT_TRUNCATED', `An object is cut short (#${truncated.map((s) => s + 1).join(', #')}).`, 'Download the record again.', { sources: truncated });
  if (malformed.length > 0) throw new FragmentError('FRAGMENT_MALFORMED', `An object is longer than its head says (#${malformed.map((s) => s + 1).join(', #')}).`, 'Download the record again.', { sources: malformed });
  // Compared with the first object's head; the ones that differ are named.
  const first = heads[0]!;
  const differ = heads.flatMap((h, source) => (sameProtection(first, h) ? [] : [source]));
  if (differ.length > 0) throw new FragmentError('CHAIN_BROKEN', 'These objects come from different protections of the record.', 'Use the objects of one upload only.', { sources: differ });
  const shared = heads.flatMap((h, source) => (heads.some((o, other) => other !== source && o.slot === h.slot) ? [source] : []));
  if (shared.length > 0) {
    throw new FragmentError('FRAGMENT_DUPLICATE', `Objects #${shared.map((s) => s + 1).join(', #')} hold the same fragment.`, 'Remove the extra copies.', { sources: shared });
  }
  const bySlot = new Map(heads.map((h, source) => [h.slot, source] as const));
  return { head: first, bySlot };
}

/** §9 steps 5–6 over every head: all unsupported ones are reported first, then all malformed ones. */
function judgeHeads(opened: readonly Uint8Array[]): HeadFields[] {
  const results = opened.map((bytes, source) => {
    try {
      return decodeHeadFields(bytes, source);
    } catch (error) {
      return error as FragmentError;
    }
  });
  for (const code of ['FRAGMENT_UNSUPPORTED', 'FRAGMENT_MALFORMED'] as const) {
    const failed = results.flatMap((r, source) => (r instanceof FragmentError && r.code === code ? [source] : []));
    if (failed.length > 0) {
      const first = results[failed[0]!] as FragmentError;
      throw new FragmentError(code, first.message, first.hint, { ...first.details, sources: failed });
    }
  }
  return results as HeadFields[];
}

/** §9 step 9: the Argon2id cost is paid here, once per open. */
export async function unlockRecord(recordKey: Uint8Array, recordId: Uint8Array, key: SequenceKey, head: HeadFields, stretch: Stretch = stretchSequenceKey): Promise<RecordKeys> {
  if (key.n !== head.n) {
    throw new WrongSequenceKeyError(`it has ${key.n} characters, and the record was split into ${head.n} fragments.`, { keyLength: key.n, expectedLength: head.n });
  }
  const locator = await deriveLocatorKeys(recordKey);
  const stretched = await stretch(key, locator.kdfSalt, head.kdf);
  const keys = await deriveRecordKeys(recordKey, recordId, stretched);
  stretched.fill(0);
  if (!constantTimeEqual(await sequenceCheck(keys), head.check)) {
    throw new WrongSequenceKeyError('it is not the key this record was protected with (the characters or their order differ).');
  }
  return keys;
}

/**
 * §9 steps 10–12: every data object present, each frame authentic, the chain whole. Reads each body's
 * front and its tail (next character, MAC, padding); payloads are left to the envelope reader.
 */
export async function locateFragments(keys: RecordKeys, key: SequenceKey, head: HeadFields, bySlot: ReadonlyMap<number, number>, read: ObjectReader): Promise<OpenPlan> {
  const missingSlots = key.chars.flatMap((_, slot) => (bySlot.has(slot) ? [] : [slot]));
  if (missingSlots.length > 0) {
    const missing = missingSlots.map((s) => key.chars[s]!);
    throw new FragmentError('FRAGMENT_MISSING', `Fragment ${missing.map((c) => `'${c}'`).join(', ')} ${plural(missing.length, 'is', 'are')} missing (${key.n - missing.length} of ${key.n} present).`, 'Download the record again; every fragment is needed.', {
      missing,
      positions: missingSlots,
    });
  }
  const B = head.bodyLength;
  const results = await Promise.all(
    key.chars.map(async (_, slot) => {
      const source = bySlot.get(slot)!;
      const front = await wrapAt(keys.wrap, slot, 0, await read(source, HEAD_LENGTH, HEAD_LENGTH + Math.min(16, B)));
      const frameHead = readFrameHead(front, B);
      if (!frameHead) return undefined;
      const tailStart = frameHead.prefixLength + frameHead.payloadLength;
      const tail = await wrapAt(keys.wrap, slot, tailStart, await read(source, HEAD_LENGTH + tailStart, HEAD_LENGTH + B));
      const frame = await readFrameTail(keys, frameHead, tail);
      return frame ? { frame, prefixLength: frameHead.prefixLength, source } : undefined;
    }),
  );
  const bad = results.flatMap((r, slot) => (r ? [] : [slot]));
  if (bad.length > 0) throw tamperedFragments(key, bad, { sources: bad.map((s) => bySlot.get(s)!) });
  const frames: FrameFields[] = results.map((r) => r!.frame);
  checkChain(key, frames);
  let at = 0;
  const fragments = results.map((r, slot) => {
    const start = at;
    at += r!.frame.payloadLength;
    return { slot, source: r!.source, indexChar: r!.frame.indexChar, payloadStart: start, payloadEnd: at, prefixLength: r!.prefixLength, objectOffset: HEAD_LENGTH + r!.prefixLength };
  });
  return { keys, head, fragments, envelopeLength: at };
}

/** §9 steps 2–12 in one call. */
export async function planOpen(recordKey: Uint8Array, recordId: Uint8Array, key: SequenceKey, lengths: readonly number[], read: ObjectReader, stretch?: Stretch): Promise<OpenPlan> {
  const { head, bySlot } = await inspectObjects(recordKey, recordId, key, lengths, read);
  const keys = await unlockRecord(recordKey, recordId, key, head, stretch);
  return locateFragments(keys, key, head, bySlot, read);
}
