import { EhrVaultError } from '../core/errors.js';
import type { ImageInfo } from '../core/metadata.js';
import { checkWebpLosslessContainer, pixelsToRgba, rgbaToPixels, webpFits, webpInvalid } from '../core/webp-container.js';

/**
 * The `webp-lossless` body encoding (FORMAT.md §6.4) with libwebp (the @jsquash/webp WebAssembly
 * builds). The glue and .wasm are imported on first use only, so a record that never needs WebP never
 * loads them. In a browser the glue finds its .wasm by `new URL(…, import.meta.url)`, which Vite emits as
 * an asset (precached by the service worker, run under script-src 'wasm-unsafe-eval'); in Node (unit tests,
 * the bench, the CLI) that URL is a file: URL that fetch cannot read, so the module is compiled from the
 * file instead. Only the SIMD encoder is used: every supported browser has WebAssembly SIMD (Safari 16.4+).
 */

export interface WebpSettings {
  /** libwebp `method` 0–6: the encoder's search effort. */
  readonly method: number;
  /** In lossless mode, libwebp's `quality` 0–100 is effort too (how hard it tries), not loss. */
  readonly quality: number;
}

interface EncoderModule {
  encode(data: Uint8Array, width: number, height: number, options: Record<string, number>): Uint8Array | null;
}
interface DecoderModule {
  decode(data: Uint8Array): { data: Uint8ClampedArray; width: number; height: number } | null;
}
type Factory<M> = (options: Record<string, unknown>) => Promise<M>;

const isNode = typeof globalThis.process === 'object' && globalThis.process?.release?.name === 'node';

/** Node only: Emscripten's `instantiateWasm` hook with the module compiled from node_modules. */
async function nodeInstantiate(wasmPath: string): Promise<Record<string, unknown>> {
  if (!isNode) return {};
  // Kept out of the browser bundle: the specifiers are not literals Vite would follow.
  const moduleApi = 'node:module';
  const fsApi = 'node:fs/promises';
  const { createRequire } = (await import(/* @vite-ignore */ moduleApi)) as typeof import('node:module');
  const { readFile } = (await import(/* @vite-ignore */ fsApi)) as typeof import('node:fs/promises');
  const compiled = await WebAssembly.compile(await readFile(createRequire(import.meta.url).resolve(wasmPath)));
  return {
    instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
      const instance = new WebAssembly.Instance(compiled, imports);
      done(instance);
      return instance.exports;
    },
  };
}

let encoder: Promise<EncoderModule> | undefined;
let decoder: Promise<DecoderModule> | undefined;
/**
 * WebAssembly memory only grows: after a large image the module would keep hundreds of MB for the rest
 * of the session. Above this many pixels the module is dropped after use (its memory is then collected;
 * loading it again costs a compile of a cached .wasm, tens of ms).
 */
const KEEP_MODULE_PIXELS = 4 * 1024 * 1024;

function loadEncoder(): Promise<EncoderModule> {
  encoder ??= (async () => {
    const factory = (await import('@jsquash/webp/codec/enc/webp_enc_simd.js')).default as unknown as Factory<EncoderModule>;
    return factory({ noInitialRun: true, ...(await nodeInstantiate('@jsquash/webp/codec/enc/webp_enc_simd.wasm')) });
  })();
  encoder.catch(() => (encoder = undefined));
  return encoder;
}

function loadDecoder(): Promise<DecoderModule> {
  decoder ??= (async () => {
    const factory = (await import('@jsquash/webp/codec/dec/webp_dec.js')).default as unknown as Factory<DecoderModule>;
    return factory({ noInitialRun: true, ...(await nodeInstantiate('@jsquash/webp/codec/dec/webp_dec.wasm')) });
  })();
  decoder.catch(() => (decoder = undefined));
  return decoder;
}

/** libwebp's WebPConfig as @jsquash/webp passes it through (encode.h defaults, lossless and exact set). */
function encodeOptions(settings: WebpSettings): Record<string, number> {
  return {
    quality: settings.quality,
    target_size: 0,
    target_PSNR: 0,
    method: settings.method,
    sns_strength: 50,
    filter_strength: 60,
    filter_sharpness: 0,
    filter_type: 1,
    partitions: 0,
    segments: 4,
    pass: 1,
    show_compressed: 0,
    preprocessing: 0,
    autofilter: 0,
    partition_limit: 0,
    alpha_compression: 1,
    alpha_filtering: 1,
    alpha_quality: 100,
    lossless: 1,
    // Keep RGB under fully transparent pixels: without it libwebp rewrites them and the body is not exact.
    exact: 1,
    image_hint: 0,
    emulate_jpeg_size: 0,
    thread_level: 0,
    low_memory: 0,
    near_lossless: 100,
    use_delta_palette: 0,
    use_sharp_yuv: 0,
  };
}

/** Pixels of §6.1 (GRAY8, RGB8, RGBA8; one frame) → a `webp-lossless` body. */
export async function encodeWebpBody(pixels: Uint8Array, image: ImageInfo, settings: WebpSettings): Promise<Uint8Array<ArrayBuffer>> {
  if (!webpFits(image)) throw new RangeError(`webp-lossless takes 8-bit single-frame images up to 16384², not ${image.pixelFormat} ${image.width}×${image.height}`);
  const module = await loadEncoder();
  try {
    const out = module.encode(pixelsToRgba(pixels, image), image.width, image.height, encodeOptions(settings));
    if (!out) throw new Error('libwebp could not encode the image');
    // A copy: the result may be a view of WASM memory that the next call reuses.
    return new Uint8Array(out) as Uint8Array<ArrayBuffer>;
  } finally {
    if (image.width * image.height > KEEP_MODULE_PIXELS) encoder = undefined;
  }
}

/**
 * A `webp-lossless` body → the pixels of §6.1, exactly; METADATA_INVALID when the container, the size,
 * the bitstream or a pixel does not fit the record's description (never garbage).
 */
export async function decodeWebpBody(body: Uint8Array, image: ImageInfo): Promise<Uint8Array<ArrayBuffer>> {
  checkWebpLosslessContainer(body, image);
  const module = await loadDecoder();
  let decoded: ReturnType<DecoderModule['decode']>;
  try {
    decoded = module.decode(body);
  } catch (cause) {
    if (cause instanceof EhrVaultError) throw cause;
    throw webpInvalid('libwebp could not decode it', { cause: String(cause) });
  } finally {
    if (image.width * image.height > KEEP_MODULE_PIXELS) decoder = undefined;
  }
  if (!decoded) throw webpInvalid('libwebp could not decode it');
  if (decoded.width !== image.width || decoded.height !== image.height) throw webpInvalid('its size differs from the record description', { width: decoded.width, height: decoded.height });
  const rgba = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length);
  return rgbaToPixels(rgba, image) as Uint8Array<ArrayBuffer>;
}
