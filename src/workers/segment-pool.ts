import type { BodySegment, SegmentContext } from '../core/envelope.js';
import { AbortedError } from '../core/errors.js';
import { inOrder } from '../core/ordered.js';
import { throwIfAborted } from '../core/progress.js';
import { EngineStalledError, STALL_MS } from './engine-errors.js';
import { engineStep, POOL_START_STEP } from './engine-step.js';
import { closeScratchWriters, writeRelayed } from './scratch-file.js';
import { forgetLaneHashing, runSegmentJob, type LaneHashing, type ObjectWrap, type SegmentJob, type SegmentOutput, type SegmentSink } from './segment-jobs.js';
import { ONE_SHOT_MAX_BYTES } from './fragment-hashes.js';
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
  /** Objects to hash on the pool's threads where one lane covers all of an object (seal only). */
  readonly hash?: PoolHashing | undefined;
}

/** An object of the record, for hashing in the pool: where its payload lies and the bytes around it. */
export interface PoolHashedObject {
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** Head ‖ sealed prefix. */
  readonly lead: readonly Uint8Array[];
  readonly tail: readonly Uint8Array[];
}

export interface PoolHashing {
  readonly objects: readonly PoolHashedObject[];
  /** Called once, before any segment runs, with the indices of the objects the lanes will hash. */
  readonly claim: (indices: readonly number[]) => void;
  readonly onDigest: (index: number, sha256: string) => void;
}

/**
 * Which objects each lane hashes, when lanes take contiguous blocks of segments (inOrder `contiguous`): an
 * object whose whole payload lies in one lane's block. Objects across a block boundary, in the envelope's
 * head, empty or too large to gather (ONE_SHOT_MAX_BYTES) are left to the caller.
 */
export function laneHashedObjects(segments: readonly BodySegment[], lanes: number, objects: readonly PoolHashedObject[], maxBytes = ONE_SHOT_MAX_BYTES): number[][] {
  const block = Math.ceil(segments.length / lanes);
  return Array.from({ length: lanes }, (_, lane) => {
    const first = segments[lane * block];
    const last = segments[Math.min(segments.length, (lane + 1) * block) - 1];
    if (!first || !last) return [];
    return objects.flatMap((o, index) => {
      const size = sizeOf(o);
      return o.payloadEnd > o.payloadStart && o.payloadStart >= first.cipherStart && o.payloadEnd <= last.cipherEnd && size <= maxBytes ? [index] : [];
    });
  });
}

function sizeOf(o: PoolHashedObject): number {
  return [...o.lead, ...o.tail].reduce((sum, p) => sum + p.length, 0) + (o.payloadEnd - o.payloadStart);
}

/** The lane-hashed objects a segment touches, with the lead where it begins and the tail where it ends. */
function hashingFor(run: string, segment: BodySegment, objects: readonly PoolHashedObject[], indices: readonly number[]): LaneHashing | undefined {
  const touched = indices.flatMap((index) => {
    const o = objects[index]!;
    if (o.payloadEnd <= segment.cipherStart || o.payloadStart >= segment.cipherEnd) return [];
    const begins = o.payloadStart >= segment.cipherStart;
    const ends = o.payloadEnd <= segment.cipherEnd;
    return [{ index, payloadStart: o.payloadStart, payloadEnd: o.payloadEnd, size: sizeOf(o), ...(begins ? { lead: o.lead } : {}), ...(ends ? { tail: o.tail } : {}) }];
  });
  return touched.length > 0 ? { run, objects: touched } : undefined;
}

export interface Lane {
  /** `note`: each step of the job as it begins (for the watchdog's report). */
  run(job: SegmentJob, note?: (step: string) => void): Promise<SegmentOutput>;
  finish(): Promise<void>;
  stop(): void;
}

function inThreadLane(): Lane {
  return { run: runSegmentJob, finish: closeScratchWriters, stop: () => {} };
}

function workerLane(): Lane {
  // Where Workers do not exist (Node: the pipeline tests), lanes run on this thread, one after another in
  // effect, through the same scheduling, hashing and output path.
  if (typeof Worker === 'undefined') return inThreadLane();
  // Kept until the run stops it: a lane runs its segments one after another on the same worker.
  // Named as a step of its own: in Firefox ESR this constructor sometimes never returns (engine-client.ts).
  engineStep(POOL_START_STEP);
  const bridge = new WorkerBridge<SegmentWorkerApi>(() => new Worker(new URL('./segment-worker.ts', import.meta.url), { type: 'module', name: 'ehr-vault-segment' })).start();
  engineStep('pool: worker started');
  return {
    run: async (job, note) => {
      note?.('in its worker');
      const result = await bridge.call((api) => api.run(job) as Promise<Awaited<ReturnType<SegmentWorkerApi['run']>>>);
      if (!('relayed' in result)) return result;
      // A relay sink: this thread is the file's only writer (output-sink.ts).
      note?.(`writing ${result.relayed.length} relayed pieces`);
      if (job.sink.kind === 'disk') await writeRelayed(job.sink.file, result.relayed);
      return { output: job.keepOutput ? result.relayed.map((w) => w.bytes) : undefined, digests: result.digests };
    },
    finish: async () => {
      await bridge.call((api) => api.finish());
      // The writer this thread opened for relayed output, if any.
      await closeScratchWriters();
    },
    stop: () => bridge.terminate(),
  };
}

/** Numbers the runs that hash in their lanes. */
let hashRuns = 0;

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
  // What each lane was doing, for the stall's report: the segment, its step, since when.
  const began = Date.now();
  const lanesNow: { segment: number; step: string; atMs: number }[] = [];
  let finished = 0;
  const feedWatchdog = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      const lanes = lanesNow.map((l, lane) => (l ? `lane ${lane}: segment ${l.segment} ${l.step} since ${l.atMs} ms` : `lane ${lane}: idle`));
      halt(new EngineStalledError(stallMs, undefined, { lanes, segmentsDone: finished, segments: segments.length, direction: run.direction, relay: 'relay' in run.sink }));
    }, stallMs);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // Hashing in the lanes needs each lane to see its objects' segments in order: one contiguous block each.
  const hashing = run.hash && run.direction === 'seal' && pool.length > 1 ? run.hash : undefined;
  const hashRun = hashing ? `h${(hashRuns += 1)}` : '';
  const laneObjects = hashing ? laneHashedObjects(segments, pool.length, hashing.objects) : [];
  hashing?.claim(laneObjects.flat());
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
        const hash = hashing ? hashingFor(hashRun, segment, hashing.objects, laneObjects[lane]!) : undefined;
        const note = (step: string) => {
          lanesNow[lane] = { segment: i, step, atMs: Date.now() - began };
          engineStep(`pool (${run.direction}, ${finished}/${segments.length} done): ${lanesNow.map((l, k) => (l ? `lane ${k} segment ${l.segment} ${l.step}` : `lane ${k} idle`)).join('; ')}`);
        };
        note('started');
        const result = await pool[lane]!.run({ direction: run.direction, source: run.source, encryption: run.encryption, context: run.context, segment, sink: run.sink, wrap: run.wrap, keepOutput: run.onOutput !== undefined, hash }, note);
        note('done');
        finished++;
        if (result.output) run.onOutput?.(segment, result.output);
        for (const [index, sha256] of result.digests ?? []) hashing?.onDigest(index, sha256);
        done += segment.plainEnd - segment.plainStart;
        feedWatchdog();
        run.onProgress?.(done, total);
        return result.blob;
      },
      { stopOnFailure: true, contiguous: hashing !== undefined },
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
    // Lanes on this thread (tests) keep their half-gathered objects here; workers lose theirs when stopped.
    if (hashing) forgetLaneHashing(hashRun);
    pool.forEach((lane) => lane.stop());
  }
}
