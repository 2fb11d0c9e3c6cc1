import * as Comlink from 'comlink';
import { AbortedError } from '../core/errors.js';
import { installErrorTransfer } from './comlink-errors.js';
import { EngineStalledError } from './engine-errors.js';

installErrorTransfer();

export interface WorkerBridgeOptions {
  /**
   * After the last queued call settles: `0` ends the worker at once (one worker per call: the engine, whose
   * calls hold scratch-file writers and hundreds of MiB that only ending the worker frees for sure); a
   * number of ms ends it after that long without calls; undefined keeps it until `terminate()` (a worker
   * that holds state between calls: the frame viewer, a pool lane).
   */
  readonly idleMs?: number | undefined;
}

/**
 * The one bridge from this thread to a Comlink worker, after squoosh's worker-bridge: typed calls
 * (`call(api => api.method(...))`); an aborted call ends the worker (the only way to stop WebCrypto calls
 * and reads in flight) and rejects with ABORTED; an idle worker is ended after `idleMs`. The worker starts
 * on the first call, or earlier with `start()` so it loads while the page does something else. A call
 * after an end starts a fresh worker; a worker that dies ends its calls with ENGINE_STALLED. The engine
 * client, the segment pool and the frame viewer use it.
 */
export class WorkerBridge<Api> {
  private worker: Worker | undefined;
  private api: Comlink.Remote<Api> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Rejects the calls in progress when the worker is ended under them (they would never answer). */
  private readonly interrupts = new Set<(error: Error) => void>();

  constructor(
    private readonly createWorker: () => Worker,
    private readonly options: WorkerBridgeOptions = {},
  ) {}

  /** A worker is running (started, busy or idle). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Calls in progress. */
  get busy(): boolean {
    return this.interrupts.size > 0;
  }

  /** Starts the worker now, so that it has loaded by the first call. */
  start(): this {
    this.remote();
    return this;
  }

  private remote(): Comlink.Remote<Api> {
    if (!this.worker) {
      const worker = this.createWorker();
      // A worker that dies (a script that failed to load, memory) never answers: its calls would wait for
      // ever, so they end with ENGINE_STALLED instead of an endless progress bar.
      worker.addEventListener?.('error', (event: ErrorEvent) => {
        event.preventDefault();
        if (this.worker === worker) this.terminate(new EngineStalledError(0, event.message || 'the worker failed'));
      });
      this.worker = worker;
      this.api = Comlink.wrap<Api>(worker);
    }
    return this.api!;
  }

  /**
   * Runs `run` against the worker (started if need be). Aborting `signal`, before or during the call, ends
   * the worker and rejects with ABORTED; so does `terminate()`. Calls made together run together (Comlink
   * multiplexes them; the frame viewer renders while it decodes); a caller wanting one at a time awaits.
   */
  async call<T>(run: (api: Comlink.Remote<Api>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new AbortedError(signal.reason);
    clearTimeout(this.idleTimer);
    const api = this.remote();
    let interrupt: ((error: Error) => void) | undefined;
    const onAbort = () => this.terminate(new AbortedError(signal?.reason));
    const interrupted = new Promise<never>((_, reject) => {
      interrupt = reject;
    });
    interrupted.catch(() => {});
    this.interrupts.add(interrupt!);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([run(api), interrupted]);
    } finally {
      this.interrupts.delete(interrupt!);
      signal?.removeEventListener('abort', onAbort);
      if (this.interrupts.size === 0) this.idle();
    }
  }

  private idle(): void {
    const { idleMs } = this.options;
    if (idleMs === undefined || !this.worker) return;
    if (idleMs <= 0) this.terminate();
    else this.idleTimer = setTimeout(() => this.terminate(), idleMs);
  }

  /** Ends the worker now; calls in progress reject with `reason` (ABORTED by default). */
  terminate(reason: Error = new AbortedError()): void {
    clearTimeout(this.idleTimer);
    const interrupts = [...this.interrupts];
    this.interrupts.clear();
    for (const interrupt of interrupts) interrupt(reason);
    if (!this.worker) return;
    this.api![Comlink.releaseProxy]();
    this.worker.terminate();
    this.worker = undefined;
    this.api = undefined;
  }
}
