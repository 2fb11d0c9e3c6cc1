/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { installErrorTransfer } from './comlink-errors.js';
import { decodeImage, inspect, readForInspection } from './decode-image.js';
import { encodePng } from './decoders/png-encode.js';
import { lazyWasmDecode } from './dicom/lazy-wasm.js';
import type { EngineApi } from './engine-api.js';
import { currentEngineStep } from './engine-step.js';
import { FrameViewer } from './frame-viewer.js';
import { openInWorker } from './open-engine.js';
import { throttleProgress } from './progress-throttle.js';
import { protectInWorker } from './protect-engine.js';
import { stretchForBatch } from '../core/batch-kdf.js';
import { DEFAULT_KDF } from '../core/kdf.js';
import { parseSequenceKey } from '../core/sequence-key.js';

installErrorTransfer();

/**
 * The engine worker. Cancelling terminates the whole worker (see services/engine-client.ts), which stops
 * WebCrypto calls and file reads at once and frees their memory; so no AbortSignal crosses the boundary.
 */
const api: EngineApi = {
  async protect(request, onProgress) {
    const result = await protectInWorker(request, throttleProgress(onProgress));
    return result.noise ? Comlink.transfer(result, [result.noise]) : result;
  },
  async stretchBatch(sequenceKey, kdf = DEFAULT_KDF, salt) {
    return stretchForBatch(parseSequenceKey(sequenceKey), kdf, { salt });
  },
  async open(request, onProgress) {
    const result = await openInWorker(request, throttleProgress(onProgress));
    return result.kind === 'image' ? Comlink.transfer(result, result.bitmap ? [result.pixels.buffer, result.bitmap] : [result.pixels.buffer]) : result;
  },
  async decode(source) {
    const image = await decodeImage(source);
    const pixels = new Uint8Array(image.pixels.buffer as ArrayBuffer, image.pixels.byteOffset, image.pixels.byteLength);
    return Comlink.transfer({ width: image.width, height: image.height, pixelFormat: image.pixelFormat, pixels }, [pixels.buffer]);
  },
  async inspect(source, name, mime = source.type) {
    return inspect(await readForInspection(source, name), name, mime);
  },
  async exportPng(request, onProgress) {
    const progress = throttleProgress(onProgress);
    return encodePng(request.pixels, request.image, { frame: request.frame, onProgress: (done, total) => progress({ phase: 'encode', done, total }) });
  },
  async whereNow() {
    return currentEngineStep();
  },
  async dicomSummary(source, name = '') {
    const viewer = await FrameViewer.fromDicom(new Uint8Array(await source.arrayBuffer()), name, lazyWasmDecode);
    return viewer.summary;
  },
};

Comlink.expose(api);
