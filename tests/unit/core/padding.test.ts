/**
 * Padding (FORMAT.md §4.3): Padmé of the PURBs paper, checked against values worked out by hand and against
 * an independent BigInt implementation of the paper's formula, and the object length it gives every object
 * of a record: 92 + B, B = 52 + ⌈Padmé(T)/n⌉.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_OVERHEAD_MAX, HEAD_LENGTH, objectBodyLength, padme, protectRecord } from '../../../src/core/index.js';
import { TEST_KDF, fileMetadata, memoStretch, pseudoRandomBytes } from './helpers.js';

/** Padmé from the paper, in BigInt: E = ⌊log₂ L⌋, S = ⌊log₂ E⌋ + 1, z = E − S, round L up to a multiple of 2^z. */
function referencePadme(length: bigint): bigint {
  const floorLog2 = (v: bigint) => BigInt(v.toString(2).length - 1);
  const e = floorLog2(length);
  const s = floorLog2(e) + 1n;
  const step = 1n << (e - s);
  return ((length + step - 1n) / step) * step;
}

describe('Padmé (Nikitin et al., PURBs, PETS 2019)', () => {
  it('gives the values worked out by hand, beyond 2^32 too', () => {
    // L → (E, S, z) → Padmé(L)
    const cases: [number, number][] = [
      [2, 2], // E 1, S 1, z 0
      [3, 3], // E 1, S 1, z 0
      [9, 10], // E 3, S 2, z 1: ⌈9/2⌉·2
      [100, 104], // E 6, S 3, z 3: ⌈100/8⌉·8
      [129, 144], // E 7, S 3, z 4: ⌈129/16⌉·16 (the worst case below 2^8: 11.6 %)
      [1000, 1024], // E 9, S 4, z 5: ⌈1000/32⌉·32
      [1584, 1600], // E 10, S 4, z 6: ⌈1584/64⌉·64 = 25·64
      [1600, 1600], // already a multiple
      [2 ** 32 + 1, 2 ** 32 + 2 ** 26], // E 32, S 6, z 26: (64 + 1)·2^26
      [5_000_000_000, 75 * 2 ** 26], // E 32, S 6, z 26: ⌈74.5⌉·2^26 = 5,033,164,800
      [2 ** 40 + 12_345, 2 ** 40 + 2 ** 34], // E 40, S 6, z 34
      [2 ** 52 + 1, 2 ** 52 + 2 ** 46], // E 52, S 6, z 46
    ];
    for (const [length, expected] of cases) expect(padme(length), `Padmé(${length})`).toBe(expected);
    expect(padme(5_000_000_000)).toBe(5_033_164_800);
  });

  it('equals the BigInt reference, is never smaller, at most 12 % larger, and idempotent, for L up to 2^53', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 2, max: 100_000 }), fc.integer({ min: 2, max: 2 ** 40 }), fc.maxSafeInteger().filter((v) => v >= 2)), (length) => {
        const p = padme(length);
        expect(BigInt(p)).toBe(referencePadme(BigInt(length)));
        expect(p).toBeGreaterThanOrEqual(length);
        expect(p - length).toBeLessThan(0.12 * length);
        expect(padme(p)).toBe(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('B = 52 + ⌈Padmé(T)/n⌉', () => {
    expect(FRAME_OVERHEAD_MAX).toBe(52);
    expect(objectBodyLength(1584, 8)).toBe(52 + 200);
    expect(objectBodyLength(1585, 8)).toBe(52 + 200);
    expect(objectBodyLength(1601, 8)).toBe(52 + Math.ceil(1664 / 8)); // Padmé(1601) = 1664
    expect(objectBodyLength(400, 64)).toBe(52 + Math.ceil(400 / 64)); // Padmé(400) = 400 (E 8, S 4, z 4)
    fc.assert(
      fc.property(fc.integer({ min: 344, max: 2 ** 40 }), fc.integer({ min: 8, max: 64 }), (T, n) => {
        expect(objectBodyLength(T, n)).toBe(52 + Math.ceil(padme(T) / n));
        // Every fragment's frame fits: the largest payload is ⌈T/n⌉ and a frame adds at most 52 bytes.
        expect(objectBodyLength(T, n)).toBeGreaterThanOrEqual(FRAME_OVERHEAD_MAX + Math.ceil(T / n));
      }),
      { numRuns: 500 },
    );
  });
});

describe('object lengths of real records', () => {
  const stretch = memoStretch();

  it('all objects of a record are 92 + B bytes, whatever the index characters’ UTF-8 lengths', async () => {
    for (const [key, size] of [['adk21937', 1000], ['é中😀abcdß', 3000], ['😀😁😂🤣😃😄😅😆', 0], ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#', 20_000]] as const) {
      const r = await protectRecord([pseudoRandomBytes(size, 3)], fileMetadata(size), key, { chunkSize: 256, kdf: TEST_KDF, parity: 0, stretch });
      const B = 52 + Math.ceil(padme(r.envelopeLength) / r.sequenceKey.n);
      expect(r.objects.map((o) => o.length)).toEqual(r.objects.map(() => HEAD_LENGTH + B));
    }
  });

  it('records whose envelopes fall in one Padmé bucket have objects of one length', async () => {
    const lengths = new Set<number>();
    for (const size of [1000, 1005, 1010, 1016]) {
      // T = 56 + 272 + size + 16·16: 1584 … 1600, all in Padmé’s bucket of 1600.
      const r = await protectRecord([pseudoRandomBytes(size, size)], fileMetadata(size), 'adk21937', { chunkSize: 64, kdf: TEST_KDF, parity: 0, stretch });
      expect(padme(r.envelopeLength)).toBe(1600);
      lengths.add(r.objects[0]!.length);
    }
    expect([...lengths]).toEqual([HEAD_LENGTH + 252]);
  });
});
