import type { BodySegment, SegmentContext } from '../core/envelope.js';
import { AbortedError } from '../core/errors.js';
import { inOrder } from '../core/ordered.js';
import { throwIfAborted } from '../core/progress.js';
import { EngineStalledError, STALL_MS } from './engine-errors.js';
import { closeScratchWriters, writeRelayed } from './scratch-file.js';
import { runSegmentJob, type ObjectWrap, type SegmentJob, type SegmentOutput, type SegmentSink } from './segment-jobs.js';
import type { SegmentWorkerApi } from './segment-worker.js';
import { WorkerBridge } from './worker-bridge.js';

/**
 * 32 chunks of 512 KiB: reads of 16 MiB ran ~3× faster than 1 MiB reads here (READ_SLICE_SIZE), and
 * 8 MiB segments ran ~15% slower at 256 MiB (bench/README).
 */
export const CHUNKS_PER_SEGMENT = 32;
const MIN_CHUNKS_PER_SEGMENT = 8;

/**
 * Chunks per segment for a body of `chunkCount` chunks: 32, except that a smaller body is cut into at
 * least two segments per pool worker (down to 8 chunks), so that a 16 MiB file is shared by the workers
 * instead of going through one of them in turn.
 */
export function chunksPerSegment(chunkCount: number, lanes = poolSize()): number {
  return Math.max(MIN_CHUNKS_PER_SEGMENT, Math.min(CHUNKS_PER_SEGMENT, Math.ceil(chunkCount / (2 * lanes))));
}

/**
 * Workers in the pool. Two beat one and three gave nothing more on the 2-core machine measured
 * (bench/README); more cores get one fewer than they have, up to three, leaving the page a core.
 */
export function poolSize(cores = (typeof navigator === 'object' && navigator.hardwareConcurrency) || 2): number {
  return Math.min(3, Math.max(2, cores - 1));
}

export interface SegmentRun {
  readonly direction: SegmentJob['direction'];
  readonly source: Blob;
  readonly encryption: CryptoKey;
  readonly context: SegmentContext;
  readonly segments: readonly BodySegment[];
  readonly sink: SegmentSink;
  readonly wrap: ObjectWrap;
  readonly signal?: AbortSignal | undefined;
  /** Plaintext bytes done, reported as each segment completes. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  /**
   * Each segment's output bytes, in the order segments complete (not stream order), as they come back
   * from the pool: the fragment hashes are computed from them, not by reading the fragments again.
   */
  readonly onOutput?: ((segment: BodySegment, output: readonly Uint8Array[]) => void) | undefined;
}

export interface Lane {
  run(job: SegmentJob): Promise<SegmentOutput>;
  finish(): Promise<void>;
  stop(): void;
}

function inThreadLane(): Lane {
  return { run: runSegmentJob, finish: closeScratchWriters, stop: () => {} };
}

function workerLane(): Lane {
  // Kept until the run stops it: a lane runs its segments one after another on the same worker.
  const bridge = new WorkerBridge<SegmentWorkerApi>(() => new Worker(new URL('./segment-worker.ts', import.meta.url), { type: 'module', name: 'ehr-vault-segment' })).start();
  return {
    run: async (job) => {
      const result = await bridge.call((api) => api.run(job) as Promise<Awaited<ReturnType<SegmentWorkerApi['run']>>>);
      if (!('relayed' in result)) return result;
      // A relay sink: this thread is the file's only writer (output-sink.ts).
      if (job.sink.kind === 'disk') await writeRelayed(job.sink.file, result.relayed);
      return { output: job.keepOutput ? result.relayed.map((w) => w.bytes) : undefined };
    },
    finish: async () => {
      await bridge.call((api) => api.finish());
      // The writer this thread opened for relayed output, if any.
      await closeScratchWriters();
    },
    stop: () => bridge.terminate(),
  };
}

/** Pool workers started ahead of need (see `prestartPool`). */
const prestarted: Lane[] = [];

/**
 * Starts the pool's workers as soon as a call knows it will need them, so they load while the call derives
 * keys and plans fragments. Not at engine start: engine workers live for one call, and most calls are
 * small; a pool started for nothing was stopped mid-load at the end of every call.
 */
export function prestartPool(bodyBytes: number, chunkSize: number, size = poolSize()): void {
  if (bodyBytes <= MIN_CHUNKS_PER_SEGMENT * chunkSize) return;
  while (prestarted.length < size) prestarted.push(workerLane());
}


/**
 * Seals or opens a record body as segments spread over a pool of workers, each reading its own range,
 * running the crypto and writing its output, so reading, WebCrypto and output overlap across threads.
 * Returns the segments' Blobs in order (memory sink) or nothing (disk sink: the scratch file holds all).
 * A record of one segment is done in this thread: starting a worker would cost more than it saves.
 * Cancelling (signal), any failure or a stall stops every worker at once.
 */
export function runSegments(run: SegmentRun): Promise<Blob[]> {
  const lanes = run.segments.length > 1 ? Math.min(poolSize(), run.segments.length) : 1;
  return runSegmentsOn(Array.from({ length: lanes }, () => (lanes === 1 ? inThreadLane() : (prestarted.pop() ?? workerLane()))), run);
}

/** `runSegments` on a given pool (tests give lanes of their own). */
export async function runSegmentsOn(pool: readonly Lane[], run: SegmentRun, stallMs = STALL_MS): Promise<Blob[]> {
  const { segments, signal } = run;
  const total = run.context.byteLength;
  let done = 0;
  let halted: Error | undefined;
  let halt: (error: Error) => void = () => {};
  // A stopped worker never answers, so waiting ends on the halt itself.
  const haltedWait = new Promise<never>((_, reject) => {
    halt = (error) => {
      halted ??= error;
      pool.forEach((lane) => lane.stop());
      reject(halted);
    };
  });
  haltedWait.catch(() => {});
  const onAbort = () => halt(new AbortedError(signal?.reason));
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const feedWatchdog = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => halt(new EngineStalledError(stallMs)), stallMs);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    throwIfAborted(signal);
    feedWatchdog();
    // Each lane of `inOrder` is one worker of the pool; the lowest segment's failure is thrown, so damage
    // is reported in stream order, as a sequential open would; after a failure no new segment starts.
    const work = inOrder(
      segments.length,
      pool.length,
      async (i, lane) => {
        if (halted) throw halted;
        const segment = segments[i]!;
        const result = await pool[lane]!.run({ direction: run.direction, source: run.source, encryption: run.encryption, context: run.context, segment, sink: run.sink, wrap: run.wrap, keepOutput: run.onOutput !== undefined });
        if (result.output) run.onOutput?.(segment, result.output);
        done += segment.plainEnd - segment.plainStart;
        feedWatchdog();
        run.onProgress?.(done, total);
        return result.blob;
      },
      { stopOnFailure: true },
    );
    work.catch(() => {});
    const outputs = await Promise.race([work, haltedWait]);
    if (halted) throw halted;
    const out = outputs.filter((blob): blob is Blob => blob !== undefined);
    if (run.sink.kind === 'disk') await Promise.race([Promise.all(pool.map((lane) => lane.finish())), haltedWait]);
    return out;
  } finally {
    clearTimeout(watchdog);
    signal?.removeEventListener('abort', onAbort);
    pool.forEach((lane) => lane.stop());
  }
}
