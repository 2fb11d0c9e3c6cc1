import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { providerOfSlot, summarizePlacement } from '../../../src/core/placement.js';

/** Counts per provider by assigning every slot with `providerOfSlot` (what the app and a recipient do). */
function counts(n: number, p: number, k: number): number[] {
  const out = Array.from({ length: k }, () => 0);
  for (let slot = 0; slot < n + p; slot++) out[providerOfSlot(slot, k)]! += 1;
  return out;
}

describe('placement of a record\'s objects over storage providers', () => {
  it('round robin is balanced: the summary matches the assignment, and no assignment has a smaller largest count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 64 }), fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 8 }), (n, p, k) => {
        const assigned = counts(n, p, k);
        const summary = summarizePlacement(n, p, k);
        expect(summary.perProvider).toEqual(assigned);
        expect(summary.largest).toBe(Math.ceil((n + p) / k));
        expect(Math.max(...assigned) - Math.min(...assigned)).toBeLessThanOrEqual(1);
        expect(summary.noProviderHoldsAll).toBe(Math.max(...assigned) < n);
        // Losing provider i leaves n + p − count_i objects: survivable for every i iff each count ≤ p.
        expect(summary.survivesProviderLoss).toBe(k >= 2 && assigned.every((c) => n + p - c >= n));
      }),
    );
  });

  it('two providers: none holds the whole ciphertext for p < n − 1, but losing one is never survivable for p < n', () => {
    for (let n = 8; n <= 64; n++) {
      for (let p = 0; p < n; p++) {
        const summary = summarizePlacement(n, p, 2);
        expect(summary.survivesProviderLoss).toBe(false);
        if (p <= n - 2) expect(summary.noProviderHoldsAll).toBe(true);
      }
    }
  });

  it('the parity a provider loss needs is the least p with ⌈(n + p) / k⌉ ≤ p, i.e. about n / (k − 1)', () => {
    expect(summarizePlacement(8, 2, 3).parityForProviderLoss).toBe(4);
    expect(summarizePlacement(8, 4, 3)).toMatchObject({ perProvider: [4, 4, 4], survivesProviderLoss: true, noProviderHoldsAll: true });
    expect(summarizePlacement(8, 2, 5)).toMatchObject({ perProvider: [2, 2, 2, 2, 2], survivesProviderLoss: true, parityForProviderLoss: 2 });
    expect(summarizePlacement(8, 2, 1)).toMatchObject({ perProvider: [10], noProviderHoldsAll: false, survivesProviderLoss: false, parityForProviderLoss: undefined });
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 64 }), fc.integer({ min: 2, max: 8 }), (n, k) => {
        const least = summarizePlacement(n, 0, k).parityForProviderLoss!;
        expect(summarizePlacement(n, least, k).survivesProviderLoss).toBe(true);
        if (least > 0) expect(summarizePlacement(n, least - 1, k).survivesProviderLoss).toBe(false);
        expect(least).toBeGreaterThanOrEqual(n / (k - 1));
      }),
    );
  });
});
