import * as Comlink from 'comlink';
import { AbortedError } from '../core/errors.js';
import { installErrorTransfer } from '../workers/comlink-errors.js';
import type { DecodeResult, EngineApi, OpenRequest, OpenResult, ProgressCallback, ProtectRequest, ProtectResult } from '../workers/engine-api.js';

installErrorTransfer();

export interface EngineCallOptions {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ProgressCallback | undefined;
}

/**
 * Starts engine workers lazily and runs each call in its own worker, so that cancelling one call (by
 * terminating its worker) stops exactly that work and nothing else. `running` counts live workers,
 * which tests use to prove that a cancel leaves none behind.
 */
export class EngineClient {
  private live = new Set<Worker>();

  constructor(private readonly createWorker: () => Worker = () => new Worker(new URL('../workers/engine-worker.ts', import.meta.url), { type: 'module', name: 'ehr-vault-engine' })) {}

  get running(): number {
    return this.live.size;
  }

  private async call<T>(options: EngineCallOptions, run: (api: Comlink.Remote<EngineApi>, onProgress: ProgressCallback | undefined) => Promise<T>): Promise<T> {
    const { signal, onProgress } = options;
    if (signal?.aborted) throw new AbortedError(signal.reason);
    const worker = this.createWorker();
    this.live.add(worker);
    const api = Comlink.wrap<EngineApi>(worker);
    const stop = () => {
      worker.terminate();
      this.live.delete(worker);
    };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        stop();
        reject(new AbortedError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    const progress = onProgress ? Comlink.proxy(onProgress) : undefined;
    try {
      return await Promise.race([run(api, progress), aborted]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      aborted.catch(() => {});
      api[Comlink.releaseProxy]();
      stop();
    }
  }

  protect(request: ProtectRequest, options: EngineCallOptions = {}): Promise<ProtectResult> {
    return this.call(options, (api, progress) => api.protect(request, progress) as Promise<ProtectResult>);
  }

  open(request: OpenRequest, options: EngineCallOptions = {}): Promise<OpenResult> {
    return this.call(options, (api, progress) => api.open(request, progress) as Promise<OpenResult>);
  }

  decode(source: Blob, options: EngineCallOptions = {}): Promise<DecodeResult> {
    return this.call(options, (api) => api.decode(source) as Promise<DecodeResult>);
  }
}
