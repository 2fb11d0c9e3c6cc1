/** Per-key token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimitOptions {
  burst: number;
  perSecond: number;
  /** Milliseconds clock; injectable for tests. */
  now?: () => number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds until one request will be allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.burst >= 1) || !(options.perSecond > 0)) {
      throw new Error('rate limit: burst must be >= 1 and perSecond > 0');
    }
    this.now = options.now ?? Date.now;
  }

  take(key: string): RateLimitDecision {
    return this.decide(key, true);
  }

  /** Whether `take` would be allowed now, without spending anything. */
  peek(key: string): RateLimitDecision {
    return this.decide(key, false);
  }

  private decide(key: string, spend: boolean): RateLimitDecision {
    const { burst, perSecond } = this.options;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, updatedAt: now };
    const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(burst, bucket.tokens + elapsedSeconds * perSecond);
    bucket.updatedAt = now;
    if (bucket.tokens >= burst) {
      // A full bucket is the default state: forget it, so the map holds only keys that spent something.
      this.buckets.delete(key);
    } else {
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      if (spend) {
        bucket.tokens -= 1;
        this.buckets.set(key, bucket);
      }
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }
}
