import { describe, expect, it } from 'vitest';
import { backoffDelay, OUTBOX_BACKOFF, retryAfterMs, sleep, TRANSFER_BACKOFF, type BackoffPolicy } from '../../../src/services/backoff.js';

function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('backoff schedule', () => {
  const policies: [string, BackoffPolicy][] = [
    ['transfer', TRANSFER_BACKOFF],
    ['outbox', OUTBOX_BACKOFF],
    ['tiny', { baseMs: 1, maxMs: 3 }],
  ];

  it.each(policies)('%s: every delay lies in [cap/2, cap], cap = min(max, base·2^(attempt−1))', (_name, policy) => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 60; attempt++) {
      const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      for (const r of [0, 0.5, 0.999999, random(), random(), random()]) {
        const delay = backoffDelay(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(cap / 2));
        expect(delay).toBeLessThanOrEqual(cap);
        expect(delay).toBeLessThanOrEqual(policy.maxMs);
      }
    }
  });

  it('doubles the cap per attempt until the maximum, and never returns NaN or a negative delay', () => {
    const top = (attempt: number) => backoffDelay(attempt, TRANSFER_BACKOFF, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(top)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000]);
    expect(top(1_000)).toBe(15_000);
    for (const odd of [0, -3, Number.MAX_SAFE_INTEGER]) expect(backoffDelay(odd, TRANSFER_BACKOFF, () => 0.3)).toBeGreaterThanOrEqual(250);
    // A misbehaving random source is clamped, not trusted.
    expect(backoffDelay(1, TRANSFER_BACKOFF, () => 7)).toBe(500);
    expect(backoffDelay(1, TRANSFER_BACKOFF, () => -1)).toBe(250);
  });

  it('spreads clients that failed together (jitter), instead of retrying in lockstep', () => {
    const random = seeded(7);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, TRANSFER_BACKOFF, random)));
    expect(delays.size).toBeGreaterThan(40);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3_000);
    expect(retryAfterMs('0')).toBe(0);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs(new Date(1_000).toUTCString(), 4_000)).toBe(0);
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs('-5')).toBeNull();
  });

  it('sleep is cancelled by its signal with a typed error', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(sleep(1, controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
