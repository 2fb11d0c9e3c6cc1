import { constantTimeEqual, fromBase64Url, readU16 } from './bytes.js';
import { FragmentError, WrongRecordKeyError, WrongSequenceKeyError } from './errors.js';
import { checkChain, readFrameHead, readFrameTail, tamperedFragments, type FrameFields } from './fragments.js';
import { stretchSequenceKey, type KdfParams } from './kdf.js';
import { deriveLocatorKeys, deriveRecordKeys, RECORD_ID_BYTES, type RecordKeys } from './keychain.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes, sameProtection, type HeadFields } from './object-head.js';
import { wrapAt, type PayloadPlacement } from './object-wrap.js';
import { sequenceCheck } from './seal-objects.js';
import type { SequenceKey } from './sequence-key.js';
import { InputInvalidError } from './errors.js';
import { deriveParityKey } from './keychain.js';
import { rebuildBodies } from './parity.js';

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
  /** Parity state (FORMAT.md §4.4, §9 steps 10, 11, 15): which source holds each slot, what was rebuilt. */
  readonly parity?: ParityState | undefined;
}

/** Receives the bytes of a re-created object (head-sized placeholder, then the body) and gives its source index. */
export interface ObjectAppender {
  push(bytes: Uint8Array): void;
  finish(): number;
}

/** Where re-created objects go: the caller appends them to its list of objects, so `read` serves them. */
export interface ParityOptions {
  readonly append: () => ObjectAppender;
}

export interface ParityState {
  readonly parityKey: CryptoKey;
  readonly append: () => ObjectAppender;
  /** Slot → source, including re-created objects. */
  readonly bySlot: ReadonlyMap<number, number>;
  /** Data slots whose objects were re-created from parity. */
  readonly rebuilt: ReadonlySet<number>;
  /** Slots known to be damaged (frames that failed, payloads that failed), not used to rebuild. */
  readonly bad: ReadonlySet<number>;
  /** The number of objects the caller gave (sources beyond it are re-created ones). */
  readonly inputCount: number;
  /** Slot → source of the objects given (before anything was re-created). */
  readonly initial?: ReadonlyMap<number, number> | undefined;
  /** Objects given that were set aside (head does not open, wrong length: §9 steps 4 and 7). */
  readonly setAside?: readonly number[] | undefined;
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
 * protection. Needs only the first 92 bytes and the length of each object.
 */
export async function inspectObjects(recordKey: Uint8Array, recordId: Uint8Array, key: SequenceKey, lengths: readonly number[], read: ObjectReader): Promise<{ head: HeadFields; bySlot: Map<number, number>; setAside: number[] }> {
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
  // §9 steps 4 and 7: when the authentic heads say the record has parity objects, an object whose head
  // does not open or whose length is wrong is set aside (damaged, or another record's) and rebuilt if it
  // is needed; without parity every object is needed and such an object is an error.
  const withParity = opened.some((h) => h !== undefined && h[0] === 2 && readU16(h, 4) > 0);
  if (withParity) {
    const kept = opened.flatMap((h, source) => (h ? [source] : []));
    const heads = judgeHeads(kept.map((source) => opened[source]!), kept);
    const setAside = [...foreign];
    const bySlot = new Map<number, number>();
    const keptHeads: HeadFields[] = [];
    const keptSources: number[] = [];
    for (const [i, h] of heads.entries()) {
      const source = kept[i]!;
      if (lengths[source] !== HEAD_LENGTH + h.bodyLength) setAside.push(source);
      else {
        keptHeads.push(h);
        keptSources.push(source);
      }
    }
    if (keptHeads.length === 0) throw new FragmentError('FRAGMENT_TRUNCATED', 'Every object has the wrong length.', 'Download the record again.', { sources: kept });
    const first = keptHeads[0]!;
    const differ = keptHeads.flatMap((h, i) => (sameProtection(first, h) ? [] : [keptSources[i]!]));
    if (differ.length > 0) throw new FragmentError('CHAIN_BROKEN', 'These objects come from different protections of the record.', 'Use the objects of one upload only.', { sources: differ });
    const shared = keptHeads.flatMap((h, i) => (keptHeads.some((o, other) => other !== i && o.slot === h.slot) ? [keptSources[i]!] : []));
    if (shared.length > 0) throw new FragmentError('FRAGMENT_DUPLICATE', `Objects #${shared.map((x) => x + 1).join(', #')} hold the same fragment.`, 'Remove the extra copies.', { sources: shared });
    for (const [i, h] of keptHeads.entries()) bySlot.set(h.slot, keptSources[i]!);
    return { head: first, bySlot, setAside: setAside.sort((a, b) => a - b) };
  }
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
  return { head: first, bySlot, setAside: [] };
}

/** §9 steps 5–6 over every head: all unsupported ones are reported first, then all malformed ones. */
function judgeHeads(opened: readonly Uint8Array[], sources?: readonly number[]): HeadFields[] {
  const results = opened.map((bytes, i) => {
    const source = sources ? sources[i]! : i;
    try {
      return decodeHeadFields(bytes, source);
    } catch (error) {
      return error as FragmentError;
    }
  });
  for (const code of ['FRAGMENT_UNSUPPORTED', 'FRAGMENT_MALFORMED'] as const) {
    const failed = results.flatMap((r, i) => (r instanceof FragmentError && r.code === code ? [i] : []));
    if (failed.length > 0) {
      const first = results[failed[0]!] as FragmentError;
      throw new FragmentError(code, first.message, first.hint, { ...first.details, sources: failed.map((i) => (sources ? sources[i]! : i)) });
    }
  }
  return results as HeadFields[];
}

/** §9 step 9: the Argon2id cost is paid here, once per open. */
export async function unlockRecord(recordKey: Uint8Array, recordId: Uint8Array, key: SequenceKey, head: HeadFields, stretch: Stretch = stretchSequenceKey): Promise<RecordKeys> {
  if (key.n !== head.n) {
    throw new WrongSequenceKeyError(`it has ${key.n} characters, and the record was split into ${head.n} fragments.`, { keyLength: key.n, expectedLength: head.n });
  }
  // The salt is the batch's, from the authenticated head (§4.1): one Argon2id per open, as before.
  const stretched = await stretch(key, head.kdfSalt, head.kdf);
  const keys = await deriveRecordKeys(recordKey, recordId, stretched, head.kdfSalt);
  stretched.fill(0);
  if (!constantTimeEqual(await sequenceCheck(keys), head.check)) {
    throw new WrongSequenceKeyError('it is not the key this record was protected with (the characters or their order differ).');
  }
  return keys;
}

/** Re-creates the stored bodies of `wanted` from the n lowest good slots (FORMAT.md §4.4); false when fewer remain. */
async function rebuildSlots(state: ParityState, head: HeadFields, bySlot: Map<number, number>, wanted: readonly number[], avoid: ReadonlySet<number>, read: ObjectReader): Promise<boolean> {
  const n = head.n;
  const basis = [...bySlot.keys()].filter((slot) => !avoid.has(slot) && !wanted.includes(slot)).sort((a, b) => a - b).slice(0, n);
  if (basis.length < n) return false;
  const appenders = new Map(wanted.map((slot) => [slot, state.append()] as const));
  // A head-sized placeholder: a re-created object is read from its body only.
  for (const a of appenders.values()) a.push(new Uint8Array(HEAD_LENGTH));
  await rebuildBodies(state.parityKey, n, head.parityCount, head.bodyLength, basis, wanted, (slot, start, end) => read(bySlot.get(slot)!, HEAD_LENGTH + start, HEAD_LENGTH + end), (slot, _offset, bytes) => appenders.get(slot)!.push(bytes));
  for (const [slot, a] of appenders) bySlot.set(slot, a.finish());
  return true;
}

const realSources = (sources: readonly number[], inputCount: number) => sources.filter((s) => s < inputCount);

/**
 * §9 steps 10–12: every data object present (or re-created from parity), each frame authentic (a failing
 * one re-created from parity when it can be), the chain whole. Reads each body's front and its tail (next
 * character, MAC, padding); payloads are left to the envelope reader.
 */
export async function locateFragments(keys: RecordKeys, key: SequenceKey, head: HeadFields, bySlotIn: ReadonlyMap<number, number>, read: ObjectReader, parityIn?: Omit<ParityState, 'bySlot'>, search = true): Promise<OpenPlan> {
  const bySlot = new Map(bySlotIn);
  const rebuilt = new Set(parityIn?.rebuilt ?? []);
  const bad = new Set(parityIn?.bad ?? []);
  const inputCount = parityIn?.inputCount ?? Infinity;
  const missingSlots = key.chars.flatMap((_, slot) => (bySlot.has(slot) ? [] : [slot]));
  if (missingSlots.length > 0) {
    const canRebuild = parityIn !== undefined && head.parityCount > 0 && (await rebuildSlots({ ...parityIn, bySlot, rebuilt, bad }, head, bySlot, missingSlots, bad, read));
    if (!canRebuild) {
      const missing = missingSlots.map((s) => key.chars[s]!);
      const p = head.parityCount;
      const present = [...bySlot.keys()].filter((s) => !bad.has(s)).length;
      const parityMissing = Array.from({ length: p }, (_, r) => head.n + r).filter((slot) => !bySlot.has(slot));
      const message =
        p === 0
          ? `Fragment ${missing.map((c) => `'${c}'`).join(', ')} ${plural(missing.length, 'is', 'are')} missing (${key.n - missing.length} of ${key.n} present).`
          : `Fragment ${missing.map((c) => `'${c}'`).join(', ')} ${plural(missing.length, 'is', 'are')} missing and cannot be rebuilt: ${present} of the record's ${key.n + p} objects are usable (${key.n - missing.length} fragments, ${p - parityMissing.length} of ${p} parity objects${parityIn?.setAside?.length ? `; object${parityIn.setAside.length === 1 ? '' : 's'} #${parityIn.setAside.map((x) => x + 1).join(', #')} set aside as damaged` : ''}), ${key.n} are needed.`;
      throw new FragmentError('FRAGMENT_MISSING', message, p === 0 ? 'Download the record again; every fragment is needed.' : 'Download the record again; any ' + key.n + ' of its objects are enough.', {
        missing,
        positions: missingSlots,
        ...(p > 0 ? { parityMissing, needed: key.n, usable: present, setAside: parityIn?.setAside ?? [] } : {}),
      });
    }
    for (const slot of missingSlots) rebuilt.add(slot);
  }
  const B = head.bodyLength;
  const readFrame = async (slot: number) => {
    const source = bySlot.get(slot)!;
    const front = await wrapAt(keys.wrap, slot, 0, await read(source, HEAD_LENGTH, HEAD_LENGTH + Math.min(16, B)));
    const frameHead = readFrameHead(front, B);
    if (!frameHead) return undefined;
    const tailStart = frameHead.prefixLength + frameHead.payloadLength;
    const tail = await wrapAt(keys.wrap, slot, tailStart, await read(source, HEAD_LENGTH + tailStart, HEAD_LENGTH + B));
    const frame = await readFrameTail(keys, frameHead, tail);
    return frame ? { frame, prefixLength: frameHead.prefixLength, source } : undefined;
  };
  const results = await Promise.all(key.chars.map((_, slot) => readFrame(slot)));
  const failing = results.flatMap((r, slot) => (r ? [] : [slot]));
  if (failing.length > 0) {
    // Blamed as first found: the objects given for the failing slots (before anything is re-created).
    const failingSources = realSources(failing.map((s) => bySlot.get(s)!), inputCount);
    const blame = () => tamperedFragments(key, failing, { sources: failingSources });
    // §9 step 11 with parity: failing frames that were not themselves re-created are re-created from the
    // other objects and checked again.
    // The failing objects that were given are set aside as damaged; they and every slot re-created at
    // step 10 (which may have been rebuilt from them) are re-created from the n lowest other objects.
    const damaged = failing.filter((slot) => !rebuilt.has(slot));
    if (!parityIn || head.parityCount === 0) throw blame();
    if (damaged.length === 0) {
      // Only re-created slots fail: one of the objects they were rebuilt from is damaged. Leave out one
      // given object at a time, in slot order; the first choice under which every frame checks is used.
      if (search) {
        const initial = parityIn.initial ?? bySlotIn;
        for (const x of [...initial.keys()].sort((a, b) => a - b)) {
          const without = new Map(initial);
          without.delete(x);
          try {
            return await locateFragments(keys, key, head, without, read, { ...parityIn, rebuilt: new Set(), bad: new Set([x]), initial }, false);
          } catch {
            /* the next choice */
          }
        }
      }
      throw blame();
    }
    for (const slot of damaged) bad.add(slot);
    const wanted = [...new Set([...damaged, ...rebuilt])].sort((a, b) => a - b);
    for (const slot of wanted) bySlot.delete(slot);
    const ok = await rebuildSlots({ ...parityIn, bySlot, rebuilt, bad }, head, bySlot, wanted, bad, read);
    if (!ok) throw blame();
    for (const slot of wanted) {
      rebuilt.add(slot);
      results[slot] = await readFrame(slot);
      if (!results[slot]) throw blame();
    }
  }
  const frames: FrameFields[] = results.map((r) => r!.frame);
  checkChain(key, frames);
  let at = 0;
  const fragments = results.map((r, slot) => {
    const start = at;
    at += r!.frame.payloadLength;
    return { slot, source: r!.source, indexChar: r!.frame.indexChar, payloadStart: start, payloadEnd: at, prefixLength: r!.prefixLength, objectOffset: HEAD_LENGTH + r!.prefixLength };
  });
  return { keys, head, fragments, envelopeLength: at, ...(parityIn ? { parity: { ...parityIn, bySlot, rebuilt, bad, initial: parityIn.initial ?? new Map(bySlotIn) } } : {}) };
}

/**
 * §9 step 15 with parity: one object at a time is taken as the damaged one and left out; every data slot
 * it held or that was missing is re-created from the n lowest other objects, and the caller tries the
 * plan. Candidates, in this order: the data slots named by the failure that were not re-created, in slot
 * order; then, if a named slot was re-created (its damage may come from any object it was rebuilt from),
 * every other object given, in slot order. The first plan that opens wins.
 */
export async function* plansWithoutDamage(plan: OpenPlan, key: SequenceKey, error: unknown, read: ObjectReader): AsyncGenerator<OpenPlan> {
  const state = plan.parity;
  if (!state || plan.head.parityCount === 0 || !(error instanceof FragmentError) || error.code !== 'FRAGMENT_TAMPERED' || !Array.isArray(error.details.slots)) return;
  const initial = state.initial ?? state.bySlot;
  const named = error.details.slots as number[];
  const candidates = named.filter((slot) => !state.rebuilt.has(slot) && initial.has(slot));
  if (named.some((slot) => state.rebuilt.has(slot))) {
    for (const slot of [...initial.keys()].sort((a, b) => a - b)) if (!candidates.includes(slot)) candidates.push(slot);
  }
  for (const slot of candidates) {
    const bySlot = new Map(initial);
    bySlot.delete(slot);
    try {
      yield await locateFragments(plan.keys, key, plan.head, bySlot, read, { ...state, rebuilt: new Set(), bad: new Set([slot]), initial }, false);
    } catch {
      /* this alternative does not check out either */
    }
  }
}

/** §9 steps 2–12 in one call. */
export async function planOpen(recordKey: Uint8Array, recordId: Uint8Array, key: SequenceKey, lengths: readonly number[], read: ObjectReader, stretch?: Stretch, parity?: ParityOptions): Promise<OpenPlan> {
  const { head, bySlot, setAside } = await inspectObjects(recordKey, recordId, key, lengths, read);
  const keys = await unlockRecord(recordKey, recordId, key, head, stretch);
  const state = parity && head.parityCount > 0 ? { parityKey: await deriveParityKey(recordKey), append: parity.append, rebuilt: new Set<number>(), bad: new Set<number>(), inputCount: lengths.length, setAside } : undefined;
  return locateFragments(keys, key, head, bySlot, read, state);
}
