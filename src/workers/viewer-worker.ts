/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { InputInvalidError } from '../core/errors.js';
import { installErrorTransfer } from './comlink-errors.js';
import { FrameViewer } from './frame-viewer.js';
import { pixelBitmap } from './noise-preview.js';
import type { ViewerApi } from './viewer-api.js';
import { lazyWasmDecode } from './dicom/lazy-wasm.js';

installErrorTransfer();

let viewer: FrameViewer | undefined;

function current(): FrameViewer {
  if (!viewer) throw new InputInvalidError('Open an image in the viewer before rendering it.');
  return viewer;
}

/**
 * The viewer worker: one per open image, kept alive while the image is on screen (unlike the engine's
 * one-worker-per-call), so dragging the window re-renders from decoded samples already in memory.
 */
const api: ViewerApi = {
  async openDicom(source, name = '') {
    viewer = await FrameViewer.fromDicom(new Uint8Array(await source.arrayBuffer()), name, lazyWasmDecode);
    return viewer.summary;
  },
  async openPixels(pixels, image) {
    viewer = await FrameViewer.fromPixels(pixels, image);
    return viewer.summary;
  },
  async render(request) {
    const rendered = await current().render(request);
    const bitmap = pixelBitmap(rendered.rgba, current().summary.width, current().summary.height);
    return Comlink.transfer({ frame: rendered.frame, bitmap, ...(rendered.window ? { window: rendered.window } : {}) }, [bitmap]);
  },
  async frameValues(frame) {
    const values = await current().frameValues(frame);
    return Comlink.transfer(values, [values.values.buffer]);
  },
  async decodeAll(onProgress) {
    await current().decodeAll(onProgress);
  },
};

Comlink.expose(api);
