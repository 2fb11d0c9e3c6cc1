import type { WasmDecode } from './dicom-decode.js';

/**
 * Loads the WebAssembly codecs only when a compressed frame needs one, so a worker that never meets
 * JPEG-LS, JPEG 2000 or 8-bit JPEG DICOM never fetches their glue code or .wasm files.
 */
export const lazyWasmDecode: WasmDecode = async (codec, encoded) => (await import('./wasm-codecs.js')).decodeWithWasm(codec, encoded);
