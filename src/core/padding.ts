/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with PURBs",
 * PETS 2019): rounds L up so that only O(log log L) bits of it remain, at most 12% above L.
 * Plain arithmetic, not bitwise operators: lengths go beyond 2^32.
 */
export function padme(length: number): number {
  if (!Number.isSafeInteger(length) || length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const step = 2 ** (e - s);
  return Math.ceil(length / step) * step;
}

/** The longest frame overhead: own character (4) + n, i, payload length (12) + next character (4) + MAC (32). */
export const FRAME_OVERHEAD_MAX = 52;

/** Every object body of a record is this long (FORMAT.md §4.3): B = 52 + ⌈Padmé(T) / n⌉. */
export function objectBodyLength(envelopeLength: number, n: number): number {
  return FRAME_OVERHEAD_MAX + Math.ceil(padme(envelopeLength) / n);
}
