/**
 * Which storage provider holds which object of a record (FORMAT.md §4.6, docs/STORAGE.md).
 *
 * Slot j of a record whose providers are listed in order P₀ … P_{k−1} lives with P_{j mod k}. Round robin
 * is the balanced assignment: provider i holds ⌈(n + p − i) / k⌉ objects, so the largest count is
 * ⌈(n + p) / k⌉, the least any assignment can give. Both goals depend only on that largest count:
 *
 * - no provider can rebuild the ciphertext alone  ⇔  every provider holds at most n − 1 objects;
 * - the record survives losing any one provider  ⇔  every provider holds at most p objects
 *   (the other providers still hold n of the n + p).
 *
 * So minimising the largest count maximises what survives. The second goal needs ⌈(n + p) / k⌉ ≤ p, that
 * is p ≥ n / (k − 1): with two providers it would take p ≥ n (parity as large as the data, and then one
 * provider holds n objects anyway), so two providers keep either one from holding the whole ciphertext
 * but do not survive losing one. It also needs nothing but k and the slot, so a recipient who learns the
 * provider list from a share link finds every object before knowing n or p.
 */

/** The provider (index into the record's provider list) that holds `slot`. */
export function providerOfSlot(slot: number, providerCount: number): number {
  return providerCount <= 1 ? 0 : slot % providerCount;
}

export interface PlacementSummary {
  /** Objects each provider holds, by provider index. */
  readonly perProvider: readonly number[];
  /** The largest of them. */
  readonly largest: number;
  /** No single provider holds n or more objects (so none holds the whole ciphertext). */
  readonly noProviderHoldsAll: boolean;
  /** Any one provider may be lost (unreachable, gone) and the others still hold n objects. */
  readonly survivesProviderLoss: boolean;
  /** Objects that may be lost (anywhere) with the record still opening: p. */
  readonly survivesObjectLoss: number;
  /** The smallest p for which this many providers survive losing one: ⌈n / (k − 1)⌉ (undefined for k < 2). */
  readonly parityForProviderLoss: number | undefined;
}

/** What a placement of n + p objects over k providers survives (see the comment at the top). */
export function summarizePlacement(n: number, p: number, providerCount: number): PlacementSummary {
  const k = Math.max(1, providerCount);
  const perProvider = Array.from({ length: k }, (_, i) => Math.ceil(Math.max(0, n + p - i) / k));
  const largest = Math.max(...perProvider);
  return {
    perProvider,
    largest,
    noProviderHoldsAll: largest <= n - 1,
    survivesProviderLoss: k >= 2 && largest <= p,
    survivesObjectLoss: p,
    parityForProviderLoss: k >= 2 ? smallestParityForProviderLoss(n, k) : undefined,
  };
}

/** The least p with ⌈(n + p) / k⌉ ≤ p (k ≥ 2). */
function smallestParityForProviderLoss(n: number, k: number): number {
  let p = Math.ceil(n / (k - 1));
  while (p > 0 && Math.ceil((n + p - 1) / k) <= p - 1) p -= 1;
  while (Math.ceil((n + p) / k) > p) p += 1;
  return p;
}
