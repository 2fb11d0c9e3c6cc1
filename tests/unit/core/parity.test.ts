/**
 * Parity objects (FORMAT.md §4.4, issue 17): Reed–Solomon algorithm 01, opening with any n of the n + p
 * objects, check and repair with the record key alone.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PARITY,
  HEAD_LENGTH,
  checkRecord,
  decodeHeadFields,
  deriveLocatorKeys,
  generatorRow,
  gfInv,
  gfMul,
  openHeadBytes,
  openRecord,
  protectRecord,
  rebuildCoefficients,
  recordIdBytes,
  repairRecord,
  rsCombine,
  rsEncode,
  type ProtectedRecord,
} from '../../../src/core/index.js';
import { TEST_KDF, caught, fileMetadata, memoStretch, pseudoRandomBytes } from './helpers.js';

const KEY = 'adk21937';
const N = 8;
const stretch = memoStretch();

function subsets(total: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (total < size) return [];
  const without = subsets(total - 1, size);
  const withLast = subsets(total - 1, size - 1).map((s) => [...s, total - 1]);
  return [...without, ...withLast];
}

describe('Reed–Solomon algorithm 01 (FORMAT.md §4.4)', () => {
  it('GF(2^8) with x^8 + x^4 + x^3 + x^2 + 1: known products and inverses', () => {
    expect(gfMul(2, 0x80)).toBe(0x1d);
    expect(gfMul(3, 7)).toBe(9);
    expect(gfMul(0x53, gfInv(0x53))).toBe(1);
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInv(a))).toBe(1);
  });

  it('parity rows are 1 / ((n + r) xor j); data rows are the identity', () => {
    expect([...generatorRow(8, 2, 3)]).toEqual([0, 0, 0, 1, 0, 0, 0, 0]);
    expect([...generatorRow(8, 2, 8)]).toEqual([8, 9, 10, 11, 12, 13, 14, 15].map(gfInv));
    expect([...generatorRow(8, 2, 9)]).toEqual([9, 8, 11, 10, 13, 12, 15, 14].map(gfInv));
  });

  it('any n of n + p rows rebuild every row (n = 8, p = 3: all 165 choices)', () => {
    const data = Array.from({ length: N }, (_, j) => pseudoRandomBytes(33, j + 1));
    const rows = [...data, ...rsEncode(data, 3)];
    for (const basis of subsets(N + 3, N)) {
      const wanted = Array.from({ length: N + 3 }, (_, i) => i);
      const rebuilt = rsCombine(rebuildCoefficients(N, 3, basis, wanted), basis.map((b) => rows[b]!));
      expect(rebuilt).toEqual(rows);
    }
  });
});

describe('records with parity objects', () => {
  let record: ProtectedRecord;
  const body = pseudoRandomBytes(3000, 17);
  const metadata = fileMetadata(body.length);
  const open = (objects: readonly Uint8Array[]) => openRecord(objects, KEY, record.recordKey, record.recordId, { stretch });

  beforeAll(async () => {
    record = await protectRecord([body], metadata, KEY, { chunkSize: 256, kdf: TEST_KDF, stretch, parity: 2 });
  });

  it('protect writes n + p objects of one length; the heads carry p and algorithm 01', async () => {
    expect(DEFAULT_PARITY).toBe(2);
    expect(record.objects).toHaveLength(N + 2);
    expect(new Set(record.objects.map((o) => o.length)).size).toBe(1);
    const locator = await deriveLocatorKeys(record.recordKey);
    for (const [slot, o] of record.objects.entries()) {
      const h = decodeHeadFields((await openHeadBytes(locator.head, recordIdBytes(record.recordId), o.subarray(0, HEAD_LENGTH)))!, slot);
      expect([h.slot, h.kind, h.parityCount, h.parityAlgorithm]).toEqual([slot, slot < N ? 'data' : 'parity', 2, 1]);
    }
    expect((await open(record.objects)).body).toEqual(body);
  });

  it('any two objects deleted: opens bit-equal (all 45 pairs)', async () => {
    for (const [a, b] of subsets(N + 2, 2)) {
      const opened = await open(record.objects.filter((_, i) => i !== a && i !== b).reverse());
      expect(opened.body).toEqual(body);
    }
  });

  it('three deleted: FRAGMENT_MISSING naming the missing fragments and the parity count', async () => {
    const e = await caught(() => open(record.objects.filter((_, i) => i !== 1 && i !== 4 && i !== 6)), 'FRAGMENT_MISSING');
    expect(e.details).toMatchObject({ missing: ['d', '1', '3'], positions: [1, 4, 6], parityMissing: [], needed: 8, usable: 7 });
    expect(e.message).toContain("'d', '1', '3'");
    const e2 = await caught(() => open(record.objects.filter((_, i) => i !== 0 && i !== 8 && i !== 9)), 'FRAGMENT_MISSING');
    expect(e2.details).toMatchObject({ missing: ['a'], positions: [0], parityMissing: [8, 9] });
    // A damaged head counts as missing, and is named.
    const e3 = await caught(() => open(corrupt(record.objects, 2, 40).filter((_, i) => i !== 0 && i !== 9)), 'FRAGMENT_MISSING');
    expect(e3.details).toMatchObject({ missing: ['a', 'k'], positions: [0, 2], parityMissing: [9], setAside: [1], usable: 7 });
    expect(e3.message).toContain('#2 set aside');
  });

  const corrupt = (objects: Uint8Array[], index: number, at: number) => {
    const out = objects.map((o) => o.slice());
    out[index]![at]! ^= 0x40;
    return out;
  };
  const B = () => record.objects[0]!.length - HEAD_LENGTH;

  it('one object corrupted anywhere (frame, payload, padding, head, parity body): opens bit-equal', async () => {
    for (const slot of [0, 3, 7, 8, 9]) {
      for (const at of [HEAD_LENGTH + 2, HEAD_LENGTH + 40, HEAD_LENGTH + Math.floor(B() / 2), HEAD_LENGTH + B() - 1, 20]) {
        expect((await open(corrupt(record.objects, slot, at))).body).toEqual(body);
      }
    }
  });

  it('property: any byte of any object changed, and any other object removed, still opens bit-equal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(N + 1), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(N + 2), async (slot, at, mask, removed) => {
        const objects = record.objects.map((o) => o.slice());
        const target = objects[slot]!;
        target[at % target.length]! ^= mask;
        const list = removed === N + 2 || removed === slot ? objects : objects.filter((_, i) => i !== removed);
        expect((await open(list)).body).toEqual(body);
      }),
      { numRuns: 60 },
    );
  });

  it('one deleted and one corrupted (payload or frame), and a cut object: opens bit-equal', async () => {
    for (const [gone, bad, at] of [
      [2, 5, HEAD_LENGTH + 100],
      [9, 0, HEAD_LENGTH + 200],
      [8, 6, HEAD_LENGTH + 1],
      [4, 4, 0],
    ] as const) {
      const objects = corrupt(record.objects, bad, at).filter((_, i) => i !== gone);
      expect((await open(objects)).body).toEqual(body);
    }
    const cut = record.objects.map((o, i) => (i === 3 ? o.subarray(0, o.length - 10) : o));
    expect((await open(cut)).body).toEqual(body);
  });

  it('beyond the limit: two deleted and one payload corrupted is a typed error, never garbage', async () => {
    const objects = corrupt(record.objects, 5, HEAD_LENGTH + 100).filter((_, i) => i !== 1 && i !== 2);
    const e = await caught(() => open(objects), 'FRAGMENT_TAMPERED');
    expect(e.details.chunk).toBeTypeOf('number');
  });

  it('a record without parity (p = 0) still needs every object', async () => {
    const plain = await protectRecord([body], metadata, KEY, { chunkSize: 256, kdf: TEST_KDF, stretch, parity: 0 });
    expect(plain.objects).toHaveLength(N);
    await caught(() => openRecord(plain.objects.slice(1), KEY, plain.recordKey, plain.recordId, { stretch }), 'FRAGMENT_MISSING');
  });

  it('check with the record key alone: clean, then each kind of damage named by slot', async () => {
    const id = recordIdBytes(record.recordId);
    const clean = await checkRecord(record.recordKey, id, record.objects);
    expect(clean).toMatchObject({ n: 8, parityCount: 2, clean: true, bodies: 'consistent', repairable: [] });
    const damaged = await checkRecord(record.recordKey, id, corrupt(record.objects, 6, HEAD_LENGTH + 300));
    expect(damaged.states[6]).toBe('body-damaged');
    expect(damaged.clean).toBe(false);
    const parityDamaged = await checkRecord(record.recordKey, id, corrupt(record.objects, 9, HEAD_LENGTH + 5));
    expect(parityDamaged.states).toEqual([...Array(9).fill('ok'), 'body-damaged']);
    const mixed = await checkRecord(record.recordKey, id, record.objects.map((o, i) => (i === 1 ? undefined : i === 3 ? corrupt([o], 0, 30)[0] : o)));
    expect(mixed.states.slice(0, 4)).toEqual(['ok', 'missing', 'ok', 'head-damaged']);
    expect(mixed.repairable).toEqual([1, 3]);
    const three = await checkRecord(record.recordKey, id, record.objects.map((o, i) => (i === 1 ? undefined : i === 2 ? o.subarray(0, 100) : i === 3 ? corrupt([o], 0, 30)[0] : o)));
    expect(three.states.slice(0, 4)).toEqual(['ok', 'missing', 'wrong-length', 'head-damaged']);
    expect(three.repairable).toEqual([]);
    // With only n + 1 good objects a damaged body is seen but cannot be placed.
    const unplaced = await checkRecord(record.recordKey, id, corrupt(record.objects, 0, HEAD_LENGTH + 9).map((o, i) => (i === 9 ? undefined : o)));
    expect(unplaced.bodies).toBe('inconsistent');
    expect(unplaced.clean).toBe(false);
  });

  it('repair re-creates every object byte-equal in body (fresh head nonce), and the next check is clean', async () => {
    const id = recordIdBytes(record.recordId);
    const cases: (Uint8Array | undefined)[][] = [
      record.objects.map((o, i) => (i === 0 || i === 9 ? undefined : o)),
      record.objects.map((o, i) => (i === 4 || i === 5 ? undefined : o)),
      corrupt(record.objects, 7, HEAD_LENGTH + 321),
      corrupt(record.objects, 8, HEAD_LENGTH + 3),
      record.objects.map((o, i) => (i === 2 ? corrupt([o], 0, 40)[0] : i === 6 ? undefined : o)),
    ];
    for (const objects of cases) {
      const { objects: repaired } = await repairRecord(record.recordKey, id, objects);
      expect(repaired.size).toBeGreaterThan(0);
      const after = objects.map((o, slot) => repaired.get(slot) ?? o);
      for (const [slot, o] of repaired) {
        expect(o.subarray(HEAD_LENGTH)).toEqual(record.objects[slot]!.subarray(HEAD_LENGTH));
        expect(o.subarray(0, 12)).not.toEqual(record.objects[slot]!.subarray(0, 12));
      }
      const check = await checkRecord(record.recordKey, id, after);
      expect(check).toMatchObject({ clean: true, bodies: 'consistent' });
      expect((await open(after as Uint8Array[])).body).toEqual(body);
    }
  });

  it('repair beyond the limit: FRAGMENT_MISSING naming the slots', async () => {
    const id = recordIdBytes(record.recordId);
    const e = await caught(() => repairRecord(record.recordKey, id, record.objects.map((o, i) => (i < 3 ? undefined : o))), 'FRAGMENT_MISSING');
    expect(e.details).toMatchObject({ missingSlots: [0, 1, 2], needed: 8, good: 7 });
  });

  it('parity 1 and 4 round-trip; out-of-range parity is INPUT_INVALID', async () => {
    for (const p of [1, 4]) {
      const r = await protectRecord([body], metadata, KEY, { chunkSize: 256, kdf: TEST_KDF, stretch, parity: p });
      expect(r.objects).toHaveLength(N + p);
      const kept = r.objects.filter((_, i) => i >= p);
      expect((await openRecord(kept, KEY, r.recordKey, r.recordId, { stretch })).body).toEqual(body);
    }
    await caught(() => protectRecord([body], metadata, KEY, { chunkSize: 256, kdf: TEST_KDF, stretch, parity: 65 }), 'INPUT_INVALID');
  });
});
