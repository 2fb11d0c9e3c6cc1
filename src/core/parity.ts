import { concatBytes } from './bytes.js';
import { FragmentError, InputInvalidError, WrongRecordKeyError } from './errors.js';
import { deriveLocatorKeys, deriveParityKey } from './keychain.js';
import { decodeHeadFields, HEAD_LENGTH, MAX_PARITY_OBJECTS, openHeadBytes, sameProtection, sealHead, type HeadFields } from './object-head.js';
import { wrapAt } from './object-wrap.js';
import { rebuildCoefficients, rsCombine, rsEncode } from './reed-solomon.js';
import { systemRandomBytes, type RandomBytes } from './keychain.js';

/** FORMAT.md §4.4: parity algorithm `01` = systematic Cauchy Reed–Solomon over GF(2⁸) (reed-solomon.ts). */
export const PARITY_ALGORITHM_RS = 1;
/**
 * Parity objects a record gets unless the caller says otherwise. Two: any two objects may be lost, and
 * with every object present one damaged object is located and repaired with the record key alone (one
 * parity object detects such damage but cannot say where it is). Measured cost: bench/README.md (parity).
 */
export const DEFAULT_PARITY = 2;
/** Bodies are coded in blocks of this many bytes, so memory stays (n + p) blocks whatever B is. */
export const PARITY_BLOCK = 1024 * 1024;

/** Reads bytes [start, end) of the **stored** body of slot `slot` (offsets inside the body, after the head). */
export type BodyReader = (slot: number, start: number, end: number) => Promise<Uint8Array>;

export function checkParityCount(p: number): void {
  if (!Number.isInteger(p) || p < 0 || p > MAX_PARITY_OBJECTS) throw new InputInvalidError(`The number of parity objects is 0 … ${MAX_PARITY_OBJECTS}.`, { parity: p });
}

/** The RS row of a stored body: a data body as it is, a parity body unsealed with K_parity (§4.4). */
async function rowOf(parityKey: CryptoKey, n: number, slot: number, offset: number, stored: Uint8Array): Promise<Uint8Array> {
  return slot < n ? stored : wrapAt(parityKey, slot, offset, stored);
}

async function storedOf(parityKey: CryptoKey, n: number, slot: number, offset: number, row: Uint8Array): Promise<Uint8Array> {
  return slot < n ? row : wrapAt(parityKey, slot, offset, row);
}

/**
 * Writes the p sealed parity bodies of a record whose n sealed data bodies `read` gives (§4.4), block by
 * block: `emit(r, offset, bytes)` receives body bytes of parity object n + r in increasing offsets.
 */
export async function computeParityBodies(parityKey: CryptoKey, n: number, p: number, bodyLength: number, read: BodyReader, emit: (r: number, offset: number, bytes: Uint8Array) => void | Promise<void>): Promise<void> {
  checkParityCount(p);
  if (p === 0) return;
  for (let at = 0; at < bodyLength; at += PARITY_BLOCK) {
    const end = Math.min(bodyLength, at + PARITY_BLOCK);
    const data = await Promise.all(Array.from({ length: n }, (_, j) => read(j, at, end)));
    const rows = rsEncode(data, p);
    for (const [r, row] of rows.entries()) await emit(r, at, await wrapAt(parityKey, n + r, at, row));
  }
}

/**
 * Re-creates the stored bodies of the `wanted` slots from the n slots of `basis` (§4.4), block by block.
 */
export async function rebuildBodies(parityKey: CryptoKey, n: number, p: number, bodyLength: number, basis: readonly number[], wanted: readonly number[], read: BodyReader, emit: (slot: number, offset: number, bytes: Uint8Array) => void | Promise<void>): Promise<void> {
  const coefficients = rebuildCoefficients(n, p, basis, wanted);
  for (let at = 0; at < bodyLength; at += PARITY_BLOCK) {
    const end = Math.min(bodyLength, at + PARITY_BLOCK);
    const rows = await Promise.all(basis.map(async (slot) => rowOf(parityKey, n, slot, at, await read(slot, at, end))));
    const out = rsCombine(coefficients, rows);
    for (const [w, slot] of wanted.entries()) await emit(slot, at, await storedOf(parityKey, n, slot, at, out[w]!));
  }
}

/** Rebuilds whole stored bodies in memory (small records, tests, repair of a few objects). */
export async function rebuildBodiesInMemory(parityKey: CryptoKey, n: number, p: number, bodyLength: number, basis: readonly number[], wanted: readonly number[], read: BodyReader): Promise<Map<number, Uint8Array>> {
  const out = new Map(wanted.map((slot) => [slot, new Uint8Array(bodyLength)] as const));
  await rebuildBodies(parityKey, n, p, bodyLength, basis, wanted, read, (slot, offset, bytes) => out.get(slot)!.set(bytes, offset));
  return out;
}

/**
 * Do the bodies of `slots` (more than n of them) form one codeword? The first n rebuild the others,
 * which must match what is stored. Returns the slots beyond the first n that differ (empty: consistent).
 */
export async function inconsistentSlots(parityKey: CryptoKey, n: number, p: number, bodyLength: number, slots: readonly number[], read: BodyReader): Promise<number[]> {
  const basis = slots.slice(0, n);
  const others = slots.slice(n);
  if (others.length === 0) return [];
  const differ = new Set<number>();
  const coefficients = rebuildCoefficients(n, p, basis, others);
  for (let at = 0; at < bodyLength; at += PARITY_BLOCK) {
    const end = Math.min(bodyLength, at + PARITY_BLOCK);
    const rows = await Promise.all(basis.map(async (slot) => rowOf(parityKey, n, slot, at, await read(slot, at, end))));
    const rebuilt = rsCombine(coefficients, rows);
    for (const [w, slot] of others.entries()) {
      if (differ.has(slot)) continue;
      const stored = await rowOf(parityKey, n, slot, at, await read(slot, at, end));
      const r = rebuilt[w]!;
      for (let k = 0; k < r.length; k++) {
        if (r[k] !== stored[k]) {
          differ.add(slot);
          break;
        }
      }
    }
  }
  return others.filter((s) => differ.has(s));
}

/**
 * With every object of `good` authentic in its head but their bodies disagreeing, finds the one object
 * whose removal leaves a consistent set (needs |good| ≥ n + 2). Undefined when no single object explains it.
 */
export async function locateDamagedBody(parityKey: CryptoKey, n: number, p: number, bodyLength: number, good: readonly number[], read: BodyReader): Promise<number | undefined> {
  if (good.length < n + 2) return undefined;
  const first = await inconsistentSlots(parityKey, n, p, bodyLength, good, read);
  if (first.length === 0) return undefined;
  // One non-basis object differs alone: it is the damaged one (a damaged basis object would make every
  // other one differ, since every rebuild coefficient of an MDS code is non-zero).
  const candidates = first.length === 1 ? [first[0]!] : good.slice(0, n);
  for (const x of candidates) {
    const rest = good.filter((s) => s !== x);
    if ((await inconsistentSlots(parityKey, n, p, bodyLength, rest, read)).length === 0) return x;
  }
  return undefined;
}

// ───────────────────────────── check and repair with the record key alone ─────────────────────────────

export type ObjectState = 'ok' | 'missing' | 'head-damaged' | 'wrong-length' | 'body-damaged';

export interface RecordCheck {
  readonly n: number;
  readonly parityCount: number;
  readonly bodyLength: number;
  /** One entry per slot 0 … n + p − 1. */
  readonly states: readonly ObjectState[];
  /**
   * Whether the bodies were cross-checked through parity: 'consistent', 'inconsistent' (damage that
   * could not be located to one object), or 'unchecked' (p = 0, or only n good objects left).
   */
  readonly bodies: 'consistent' | 'inconsistent' | 'unchecked';
  /** Slots whose exact bytes `repairRecord` can re-create. */
  readonly repairable: readonly number[];
  /** True when every object is there and good. */
  readonly clean: boolean;
}

interface Inspected {
  readonly head: HeadFields;
  readonly states: ObjectState[];
  readonly headKey: CryptoKey;
  readonly parityKey: CryptoKey;
}

/**
 * FORMAT.md §2.1 and §4.4: checks a record's objects with the record key alone. `objects[j]` is what is
 * stored under the name of slot j (undefined when it is missing); the list may be shorter than n + p.
 */
export async function checkRecord(recordKey: Uint8Array, recordId: Uint8Array, objects: readonly (Uint8Array | undefined)[]): Promise<RecordCheck> {
  return (await inspectForRepair(recordKey, recordId, objects)).check;
}

async function inspectForRepair(recordKey: Uint8Array, recordId: Uint8Array, objects: readonly (Uint8Array | undefined)[]): Promise<{ check: RecordCheck; inspected: Inspected }> {
  const locator = await deriveLocatorKeys(recordKey);
  const parityKey = await deriveParityKey(recordKey);
  const heads: (HeadFields | undefined)[] = await Promise.all(
    objects.map(async (o, slot) => {
      if (!o || o.length < HEAD_LENGTH) return undefined;
      const bytes = await openHeadBytes(locator.head, recordId, o.subarray(0, HEAD_LENGTH));
      if (!bytes) return undefined;
      try {
        const h = decodeHeadFields(bytes, slot);
        return h.slot === slot ? h : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  // The protection is the one most heads agree on (a single odd head is damage, not the record).
  const authentic = heads.filter((h): h is HeadFields => h !== undefined);
  if (authentic.length === 0) throw new WrongRecordKeyError('No object of this record opens with this record key.', { sources: objects.flatMap((o, j) => (o ? [j] : [])) });
  const head = authentic.map((h) => [h, authentic.filter((o) => sameProtection(h, o)).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
  const total = head.n + head.parityCount;
  const B = head.bodyLength;
  const states: ObjectState[] = Array.from({ length: total }, (_, slot) => {
    const o = objects[slot];
    const h = heads[slot];
    if (!o) return 'missing';
    if (!h || !sameProtection(h, head)) return 'head-damaged';
    return o.length === HEAD_LENGTH + B ? 'ok' : 'wrong-length';
  });
  const read: BodyReader = async (slot, start, end) => objects[slot]!.subarray(HEAD_LENGTH + start, HEAD_LENGTH + end);
  let good = states.flatMap((s, slot) => (s === 'ok' ? [slot] : []));
  let bodies: RecordCheck['bodies'] = 'unchecked';
  if (head.parityCount > 0 && good.length > head.n) {
    const differ = await inconsistentSlots(parityKey, head.n, head.parityCount, B, good, read);
    if (differ.length === 0) bodies = 'consistent';
    else {
      const damaged = await locateDamagedBody(parityKey, head.n, head.parityCount, B, good, read);
      if (damaged === undefined) bodies = 'inconsistent';
      else {
        states[damaged] = 'body-damaged';
        good = good.filter((s) => s !== damaged);
        bodies = 'consistent';
      }
    }
  }
  const broken = states.flatMap((s, slot) => (s === 'ok' ? [] : [slot]));
  const repairable = head.parityCount > 0 && bodies !== 'inconsistent' && good.length >= head.n ? broken : [];
  const check: RecordCheck = { n: head.n, parityCount: head.parityCount, bodyLength: B, states, bodies, repairable, clean: broken.length === 0 && bodies !== 'inconsistent' };
  return { check, inspected: { head, states, headKey: locator.head, parityKey } };
}

export interface RepairResult {
  readonly check: RecordCheck;
  /** Re-created objects (head with a fresh nonce ‖ the exact body), by slot: store them under their names. */
  readonly objects: ReadonlyMap<number, Uint8Array>;
}

/**
 * FORMAT.md §4.4: re-creates every missing or damaged object from the others, with the record key alone.
 * Bodies come back byte for byte; a re-created head gets a fresh nonce. Throws FRAGMENT_MISSING naming
 * the slots when fewer than n good objects remain (or damage cannot be located).
 */
export async function repairRecord(recordKey: Uint8Array, recordId: Uint8Array, objects: readonly (Uint8Array | undefined)[], randomBytes: RandomBytes = systemRandomBytes): Promise<RepairResult> {
  const { check, inspected } = await inspectForRepair(recordKey, recordId, objects);
  const broken = check.states.flatMap((s, slot) => (s === 'ok' ? [] : [slot]));
  if (broken.length === 0) return { check, objects: new Map() };
  if (check.repairable.length !== broken.length) {
    const good = check.states.filter((s) => s === 'ok').length;
    throw new FragmentError(
      'FRAGMENT_MISSING',
      check.parityCount === 0
        ? `Objects ${broken.map((s) => `#${s + 1}`).join(', ')} are missing or damaged, and this record has no parity objects to rebuild them from.`
        : check.bodies === 'inconsistent'
          ? 'The objects disagree and the damage cannot be located to one object.'
          : `Only ${good} good objects of ${check.n + check.parityCount} remain; ${check.n} are needed to rebuild the others.`,
      'Download the record again from another copy, or ask the sender to protect it again.',
      { missingSlots: broken, states: check.states, needed: check.n, good },
    );
  }
  const { head } = inspected;
  const n = head.n;
  const p = head.parityCount;
  const good = check.states.flatMap((s, slot) => (s === 'ok' ? [slot] : []));
  const read: BodyReader = async (slot, start, end) => objects[slot]!.subarray(HEAD_LENGTH + start, HEAD_LENGTH + end);
  const bodies = await rebuildBodiesInMemory(inspected.parityKey, n, p, head.bodyLength, good.slice(0, n), broken, read);
  const out = new Map<number, Uint8Array>();
  for (const slot of broken) {
    const fields: HeadFields = { ...head, slot, kind: slot < n ? 'data' : 'parity' };
    out.set(slot, concatBytes([await sealHead(inspected.headKey, recordId, fields, randomBytes), bodies.get(slot)!]));
  }
  return { check, objects: out };
}
