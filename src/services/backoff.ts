import { AbortedError } from '../core/errors.js';

export interface BackoffPolicy {
  /** Delay cap of the first retry. */
  readonly baseMs: number;
  /** No delay is ever longer than this. */
  readonly maxMs: number;
}

/** Quick retries inside one transfer: 0.5 s, 1 s, 2 s, … up to 15 s (each with jitter). */
export const TRANSFER_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 15_000 };
/** Later retries of an outbox entry, once a transfer gave up: 5 s … 10 min. */
export const OUTBOX_BACKOFF: BackoffPolicy = { baseMs: 5_000, maxMs: 600_000 };

/**
 * Exponential backoff with "equal jitter": the cap doubles per attempt (base · 2^(attempt−1), at most
 * maxMs) and the delay is drawn from [cap/2, cap]. The jitter spreads out many clients (or many
 * fragments) that failed together, so they do not hammer a recovering server in lockstep; the lower
 * half keeps a minimum wait so a retry is never immediate.
 *
 * @param attempt 1 for the first retry.
 * @param random a number in [0, 1), injectable for tests.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(cap / 2 + (cap / 2) * r);
}

/** A server's Retry-After (seconds or an HTTP date) in ms, if it gave a usable one. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** A timer that a signal cancels; rejects with AbortedError so callers switch on one code. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
