import { throwIfAborted } from './progress.js';

/**
 * Ordered concurrency: keep several WebCrypto calls in flight (they run off the calling thread) while
 * results, and failures, come back in submission order.
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

export interface InOrderOptions {
  /** Once aborted, no further task starts and the call rejects with ABORTED (tasks running are awaited). */
  readonly signal?: AbortSignal | undefined;
  /** After a task fails, no further task starts (default: every task runs, as chunk readers want). */
  readonly stopOnFailure?: boolean | undefined;
  /**
   * Each lane takes one contiguous block of indices, in order (lane 0 the first ⌈count / limit⌉, …),
   * instead of pulling the next free index: a lane then sees a whole range of a stream in order (the
   * segment pool hashes the objects inside each lane's range there). Default false.
   */
  readonly contiguous?: boolean | undefined;
}

/**
 * The one ordered-concurrency helper (with OrderedWindow for streams of unknown length): runs
 * `task(i, lane)` for i in [0, count) with up to `limit` in flight, each of `limit` lanes pulling the next
 * index as it finishes, so one slow item never holds back a whole "wave"; `lane` (0 … limit−1) tells a
 * task which of the caller's resources it runs on (the segment pool's workers). Results come back in
 * index order. If several fail, the lowest index's error is thrown, so damage is reported in stream order
 * whatever finished first. Used by the envelope's segment readers and writers, the segment pool, the
 * transfer engine and the CLI.
 */
export async function inOrder<T>(count: number, limit: number, task: (i: number, lane: number) => Promise<T>, options: InOrderOptions = {}): Promise<T[]> {
  const { signal, stopOnFailure = false, contiguous = false } = options;
  const out = new Array<T>(count);
  const failures = new Map<number, unknown>();
  const lanes = Math.max(1, Math.min(limit, count));
  const block = Math.ceil(count / lanes);
  let next = 0;
  const first = (lane: number) => (contiguous ? lane * block : next++);
  const after = (lane: number, i: number) => (contiguous ? (i + 1 < Math.min(count, (lane + 1) * block) ? i + 1 : count) : next++);
  const run = async (lane: number) => {
    for (let i = first(lane); i < count; i = after(lane, i)) {
      if (signal?.aborted || (stopOnFailure && failures.size > 0)) return;
      try {
        out[i] = await task(i, lane);
      } catch (error) {
        failures.set(i, error);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, lane) => run(lane)));
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
  throwIfAborted(signal);
  return out;
}
