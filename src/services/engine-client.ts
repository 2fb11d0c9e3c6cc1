import * as Comlink from 'comlink';
import type { BatchKdf } from '../core/batch-kdf.js';
import type { KdfParams } from '../core/kdf.js';
import { AbortedError } from '../core/errors.js';
import { WorkerBridge } from '../workers/worker-bridge.js';
import type { DecodeResult, EngineApi, ExportPngRequest, OpenRequest, OpenResult, ProgressCallback, ProtectRequest, ProtectResult, SourceInspection } from '../workers/engine-api.js';
import { EngineStalledError, STALL_MS } from '../workers/engine-errors.js';
import { ENGINE_STEP_CHANNEL, POOL_START_STEP } from '../workers/engine-step.js';
import type { SinkRequest } from '../workers/output-sink.js';
import type { ViewerSummary } from '../workers/viewer-api.js';
import { resultSink } from './result-sink.js';
import { newScratchName, removeScratch } from './scratch-files.js';

/** How long a stalled worker is given to say which step it is at before it is ended. */
const WHERE_NOW_MS = 2_000;

/** The engine steps last posted by the workers (engine-step.ts), newest last. */
const recentSteps: { step: string; at: number }[] = [];
let stepListener: BroadcastChannel | undefined;
function listenToSteps(): void {
  if (stepListener || typeof BroadcastChannel === 'undefined') return;
  stepListener = new BroadcastChannel(ENGINE_STEP_CHANNEL);
  (stepListener as { unref?: () => void }).unref?.();
  stepListener.onmessage = (event: MessageEvent<{ step: string; at: number }>) => {
    recentSteps.push(event.data);
    if (recentSteps.length > 4) recentSteps.shift();
  };
}
function describeRecentSteps(): string {
  const now = Date.now();
  return recentSteps.length ? recentSteps.map((s) => `"${s.step}" ${now - s.at} ms ago`).join(', ') : 'none';
}

/**
 * A worker whose last step is starting a pool worker (segment-pool.ts) for this long is blocked, not busy:
 * in Firefox ESR the construction of a nested module worker sometimes never returns (session 7: the engine
 * worker's thread stopped there and answered nothing for 120 s). Such a call is sent once more to a fresh
 * worker, as one that never started is.
 */
const POOL_START_STUCK_MS = 10_000;

/** The worker is stuck starting a pool worker: the call is retried on a fresh worker (EngineClient.call). */
class WorkerBlocked extends Error {}

/** How long an engine worker may take to report that it started a protect or an open (its first act). */
const FIRST_PROGRESS_MS = 20_000;

/** The worker did not start the call in time: it is retried on a fresh worker (EngineClient.call). */
class CallNotStarted extends Error {}

export interface EngineCallOptions {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ProgressCallback | undefined;
}

/**
 * Starts engine workers lazily and runs each call in its own worker (worker-bridge.ts), so that cancelling
 * one call (by terminating its worker) stops exactly that work and nothing else. `running` counts live workers,
 * which tests use to prove that a cancel leaves none behind.
 */
export class EngineClient {
  private live = new Set<WorkerBridge<EngineApi>>();
  /** A started, idle worker for the next call (with `warm`). */
  private spare: WorkerBridge<EngineApi> | undefined;

  /**
   * `warm`: keep one idle worker started ahead of the next call. Starting a worker and loading the engine
   * took ~55–80 ms per call in the production build (bench), more than protecting a 4 MiB file.
   */
  constructor(
    private readonly createWorker: () => Worker = () => new Worker(new URL('../workers/engine-worker.ts', import.meta.url), { type: 'module', name: 'ehr-vault-engine' }),
    private readonly options: { readonly warm?: boolean; readonly stallMs?: number; readonly firstProgressMs?: number; readonly poolStartStuckMs?: number } = {},
  ) {
    if (options.warm) this.spare = this.bridge().start();
  }

  private bridge(): WorkerBridge<EngineApi> {
    return new WorkerBridge<EngineApi>(this.createWorker);
  }

  /**
   * No progress from a call for this long ends it with ENGINE_STALLED. The longest silent steps measured are
   * Argon2id (~1 s) and decoding a large image (~10 s on a phone); the pool's own watchdog has the same limit.
   */
  private get stallMs(): number {
    return this.options.stallMs ?? STALL_MS;
  }

  /** Workers busy with a call (an idle warm spare is not counted). */
  get running(): number {
    return this.live.size;
  }

  /** Stops the idle spare, if any (calls in progress are not touched). */
  dispose(): void {
    this.spare?.terminate();
    this.spare = undefined;
  }

  /**
   * `reportsAtOnce`: the call's first act in the worker is a progress report (protect and open report
   * 'unlock' before anything else). If that report has not come after `firstProgressMs`, the worker never
   * started the call — in stock Firefox under load, an open sometimes stayed at "download 8/8" and a
   * protect at its click until the 120 s watchdog (CI, sessions 5 and 6) — so the call is sent once more to a
   * fresh worker. It had done nothing yet, so nothing is done twice.
   */
  private async call<T>(options: EngineCallOptions, run: (api: Comlink.Remote<EngineApi>, onProgress: ProgressCallback | undefined) => Promise<T>, reportsAtOnce = false): Promise<T> {
    if (!reportsAtOnce) return this.callOnce(options, run, undefined);
    try {
      return await this.callOnce(options, run, this.firstProgressMs);
    } catch (error) {
      if (!(error instanceof CallNotStarted) && !(error instanceof WorkerBlocked)) throw error;
      // Said in the console so that a test run (the Firefox suite prints these lines) shows it happened.
      console.warn(
        error instanceof WorkerBlocked
          ? `ehr-vault engine: a worker was stuck starting its pool for ${this.poolStartStuckMs} ms; trying a fresh worker`
          : `ehr-vault engine: a worker did not start the call within ${this.firstProgressMs} ms; trying a fresh worker`,
      );
      return this.callOnce(options, run, this.firstProgressMs, true);
    }
  }

  private get poolStartStuckMs(): number {
    return this.options.poolStartStuckMs ?? POOL_START_STUCK_MS;
  }

  private get firstProgressMs(): number {
    return this.options.firstProgressMs ?? FIRST_PROGRESS_MS;
  }

  private async callOnce<T>(options: EngineCallOptions, run: (api: Comlink.Remote<EngineApi>, onProgress: ProgressCallback | undefined) => Promise<T>, firstProgressMs: number | undefined, lastAttempt = false): Promise<T> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new AbortedError(signal.reason);
    listenToSteps();
    // A retry never takes the warm spare: it was started the same way as the worker that did not answer.
    const bridge = (!lastAttempt && this.spare) || this.bridge();
    if (bridge === this.spare) this.spare = undefined;
    this.live.add(bridge);
    // A call that stops reporting would otherwise leave the page waiting for ever: no progress for stallMs
    // ends the worker and the call with ENGINE_STALLED (a worker that dies: worker-bridge.ts).
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const calledAt = Date.now();
    let last: { phase: string; done: number; total: number; atMs: number } | undefined;
    const feedWatchdog = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        // Where it stopped, in the console too: the Firefox suite prints these lines (an intermittent stall
        // there, after the call had started, is not understood yet). The worker is asked which step it is at
        // (engine-step.ts); a worker too stuck to answer within 2 s is ended all the same.
        const asked = bridge.call((api) => api.whereNow()).catch(() => undefined);
        void Promise.race([asked, new Promise<undefined>((resolve) => setTimeout(resolve, WHERE_NOW_MS))]).then((where) => {
          console.warn(`ehr-vault engine: no progress for ${this.stallMs} ms; ${last ? `the last report was ${last.phase} ${last.done}/${last.total}, ${last.atMs} ms after the call began` : 'no report at all'}; the worker ${where ? `is at "${where.step}" since ${where.sinceMs} ms` : 'did not say where it is'}; steps posted last: ${describeRecentSteps()}`);
          bridge.terminate(new EngineStalledError(this.stallMs, undefined, { ...(last ? { lastProgress: last } : {}), ...(where ? { engineStep: where } : {}) }));
        });
      }, this.stallMs);
    };
    feedWatchdog();
    let started: ReturnType<typeof setTimeout> | undefined;
    if (firstProgressMs !== undefined) {
      started = setTimeout(() => bridge.terminate(lastAttempt ? new EngineStalledError(firstProgressMs, 'it did not start the work, twice') : new CallNotStarted()), firstProgressMs);
    }
    let blockedCheck: ReturnType<typeof setInterval> | undefined;
    if (firstProgressMs !== undefined && !lastAttempt) {
      blockedCheck = setInterval(() => {
        const latest = recentSteps.at(-1);
        if (latest?.step === POOL_START_STEP && latest.at >= calledAt && Date.now() - latest.at > this.poolStartStuckMs) bridge.terminate(new WorkerBlocked());
      }, Math.min(1_000, this.poolStartStuckMs / 4));
    }
    const progress = Comlink.proxy<ProgressCallback>((p) => {
      clearTimeout(started);
      last = { phase: p.phase, done: p.done, total: p.total, atMs: Date.now() - calledAt };
      feedWatchdog();
      onProgress?.(p);
    });
    try {
      return await bridge.call((api) => run(api, progress), signal);
    } catch (error) {
      // A stall the engine itself detected (its segment pool's watchdog) says where, in its details.
      const stalled = error as { code?: string; details?: { lanes?: unknown } } | undefined;
      if (stalled?.code === 'ENGINE_STALLED' && stalled.details?.lanes) console.warn(`ehr-vault engine: the engine stalled: ${JSON.stringify(stalled.details)}`);
      throw error;
    } finally {
      clearTimeout(started);
      clearTimeout(watchdog);
      clearInterval(blockedCheck);
      // One call per worker: ending it frees everything the call held.
      bridge.terminate();
      this.live.delete(bridge);
      // The next call's worker loads now, not during this call: on two cores that start slowed the call.
      if (this.options.warm && !this.spare) this.spare = this.bridge().start();
    }
  }

  /**
   * Where the fragments go is decided by `resultSink` (result-sink.ts): with `result.scratch` set, they are
   * slices of a scratch file, and `releaseScratch` must wait until nothing refers to them any more (not
   * even IndexedDB in a private window, which stores Blobs by reference).
   */
  protect(request: ProtectRequest, options: EngineCallOptions = {}): Promise<ProtectResult> {
    return this.withScratch('protect', request, request.source.size, options, (r, api, progress) => api.protect(r, progress) as Promise<ProtectResult>);
  }

  /** The one Argon2id of a protect batch, in a worker; wipe the result with `forgetBatch` when the batch ends. */
  stretchBatch(sequenceKey: string, options: EngineCallOptions & { readonly kdf?: KdfParams | undefined; readonly salt?: Uint8Array | undefined } = {}): Promise<BatchKdf> {
    return this.call(options, (api) => api.stretchBatch(sequenceKey, options.kdf, options.salt) as Promise<BatchKdf>);
  }

  /** With `result.scratch` set, the opened file is a scratch file: readable until `releaseScratch`. */
  open(request: OpenRequest, options: EngineCallOptions = {}): Promise<OpenResult> {
    const size = request.objects.reduce((sum, f) => sum + f.size, 0);
    return this.withScratch('open', request, size, options, (r, api, progress) => api.open(r, progress) as Promise<OpenResult>);
  }

  /** Removes a scratch file named by a result; its Blobs cannot be read afterwards. */
  releaseScratch(name: string | undefined): Promise<void> {
    return name ? removeScratch(name) : Promise.resolve();
  }

  /**
   * Asks `resultSink` where the result goes and names the scratch file for a disk result; if the call
   * fails, is cancelled, or kept its result in memory after all, the file (if the worker made one) is
   * removed here.
   */
  private async withScratch<R extends SinkRequest, T extends object>(
    direction: 'protect' | 'open',
    request: R,
    size: number,
    options: EngineCallOptions,
    run: (request: R, api: Comlink.Remote<EngineApi>, onProgress: ProgressCallback | undefined) => Promise<T>,
  ): Promise<T> {
    const sink = await resultSink(direction, size, request.sink);
    const scratch = sink === 'disk' ? (request.scratch ?? newScratchName()) : undefined;
    let result: T | undefined;
    try {
      result = await this.call(options, (api, progress) => run({ ...request, sink, scratch }, api, progress), true);
      return result;
    } finally {
      if (scratch && (result as { scratch?: string } | undefined)?.scratch !== scratch) await removeScratch(scratch);
    }
  }

  decode(source: Blob, options: EngineCallOptions = {}): Promise<DecodeResult> {
    return this.call(options, (api) => api.decode(source) as Promise<DecodeResult>);
  }

  /** What `protect` with `mode: 'auto'` would store for this source (pixels or original bytes) and why. */
  inspect(source: Blob, name: string, mime?: string, options: EngineCallOptions = {}): Promise<SourceInspection> {
    return this.call(options, (api) => api.inspect(source, name, mime) as Promise<SourceInspection>);
  }

  /** "Save" for a pixel record: a PNG of the stored bit depth, encoded in a worker without a canvas. */
  exportPng(request: ExportPngRequest, options: EngineCallOptions = {}): Promise<Blob> {
    return this.call(options, (api, progress) => api.exportPng(request, progress) as Promise<Blob>);
  }

  /** Frame count, window presets and display tags of an opened DICOM file (parsed in a worker). */
  dicomSummary(source: Blob, name?: string, options: EngineCallOptions = {}): Promise<ViewerSummary> {
    return this.call(options, (api) => api.dicomSummary(source, name) as Promise<ViewerSummary>);
  }
}
