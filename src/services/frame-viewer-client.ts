import * as Comlink from 'comlink';
import { WorkerBridge } from '../workers/worker-bridge.js';
import type { ImageInfo } from '../core/metadata.js';
import type { FrameValues, RenderedFrame, RenderRequest, ViewerApi, ViewerSummary } from '../workers/viewer-api.js';

export type { FrameValues, RenderedFrame, RenderRequest, ViewerSummary, WindowSetting, DicomDisplayTags } from '../workers/viewer-api.js';

const createViewerWorker = () => new Worker(new URL('../workers/viewer-worker.ts', import.meta.url), { type: 'module', name: 'ehr-vault-viewer' });

/**
 * A diagnostic preview of one opened record: a DICOM file, or a pixel record. Decoding, windowing and
 * drawing all happen in a dedicated worker that lives until `close()`; the page receives ImageBitmaps.
 *
 * `render` is made for drag gestures: while one render runs, further calls wait, and only the latest
 * waiting one runs; calls it overtook resolve to `null` (nothing to draw).
 */
export class FrameViewerClient {
  private pending: { request: RenderRequest; resolve: (r: RenderedFrame | null) => void; reject: (e: unknown) => void } | undefined;
  private running = false;

  private constructor(
    private readonly bridge: WorkerBridge<ViewerApi>,
    readonly summary: ViewerSummary,
  ) {}

  private static async start(open: (api: Comlink.Remote<ViewerApi>) => Promise<ViewerSummary>, createWorker: () => Worker): Promise<FrameViewerClient> {
    // No idle timeout: the worker holds the decoded frames between renders.
    const bridge = new WorkerBridge<ViewerApi>(createWorker);
    try {
      return new FrameViewerClient(bridge, await bridge.call(open));
    } catch (error) {
      bridge.terminate();
      throw error;
    }
  }

  /** Parses the DICOM file in the worker; the summary carries frame count, presets and display tags. */
  static openDicom(source: Blob, name = '', createWorker = createViewerWorker): Promise<FrameViewerClient> {
    return FrameViewerClient.start((api) => api.openDicom(source, name), createWorker);
  }

  /** Pixels as opened from a record (`OpenResult.pixels`); copied to the worker, the caller's stay intact. */
  static openPixels(pixels: Uint8Array, image: ImageInfo, createWorker = createViewerWorker): Promise<FrameViewerClient> {
    return FrameViewerClient.start((api) => api.openPixels(pixels, image), createWorker);
  }

  render(request: RenderRequest = {}): Promise<RenderedFrame | null> {
    return new Promise((resolve, reject) => {
      this.pending?.resolve(null);
      this.pending = { request, resolve, reject };
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending) {
        const { request, resolve, reject } = this.pending;
        this.pending = undefined;
        try {
          resolve((await this.bridge.call((api) => api.render(request))) as RenderedFrame);
        } catch (error) {
          reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Stored values of a frame (before rescale), as DICOM toolkits report them. */
  frameValues(frame: number): Promise<FrameValues> {
    return this.bridge.call((api) => api.frameValues(frame)) as Promise<FrameValues>;
  }

  decodeAll(onProgress?: (done: number, total: number) => void): Promise<void> {
    return this.bridge.call((api) => api.decodeAll(onProgress ? Comlink.proxy(onProgress) : undefined));
  }

  /** Ends the worker and frees the decoded frames; patient data leaves memory with it. */
  close(): void {
    this.pending?.resolve(null);
    this.pending = undefined;
    this.bridge.terminate();
  }
}
