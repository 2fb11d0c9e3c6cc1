import * as Comlink from 'comlink';
import { AbortedError } from '../core/errors.js';
import { installErrorTransfer } from '../workers/comlink-errors.js';
import type { DecodeResult, EngineApi, ExportPngRequest, OpenRequest, OpenResult, ProgressCallback, ProtectRequest, ProtectResult, SourceInspection } from '../workers/engine-api.js';
import type { ViewerSummary } from '../workers/viewer-api.js';

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
