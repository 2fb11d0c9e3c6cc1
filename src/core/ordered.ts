/**
 * Ordered concurrency: keep several WebCrypto calls in flight (they run off the calling thread) while
 * results, and failures, come back in submission order. The one helper the envelope's readers and writers use.
 */
/** Runs async steps with up to `limit` in flight and hands results back in submission order. */
export class OrderedWindow<T> {
  private readonly queue: { promise: Promise<T>; weight: number }[] = [];
  constructor(private readonly limit: number) {}
  push(promise: Promise<T>, weight: number): void {
    // Observed at once so a failure of a call still queued is not reported as unhandled; it is
    // rethrown when its turn comes.
    promise.catch(() => {});
    this.queue.push({ promise, weight });
  }
  get full(): boolean {
    return this.queue.length >= this.limit;
  }
  get size(): number {
    return this.queue.length;
  }
  async shift(): Promise<{ value: T; weight: number }> {
    const head = this.queue.shift()!;
    return { value: await head.promise, weight: head.weight };
  }
}

/**
 * Runs `task(i)` for i in [0, count) with up to `limit` in flight; results in index order. If several
 * fail, the lowest index's error is thrown, so damage is reported in stream order whatever finished first.
 */
export async function inOrder<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  const failures = new Map<number, unknown>();
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      try {
        out[i] = await task(i);
      } catch (error) {
        failures.set(i, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, lane));
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
  return out;
}
