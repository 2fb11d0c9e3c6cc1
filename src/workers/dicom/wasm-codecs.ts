/// <reference lib="webworker" />
import charlsFactory from '@cornerstonejs/codec-charls/decodewasmjs';
import charlsWasm from '@cornerstonejs/codec-charls/decodewasm?url';
import libjpegFactory from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs';
import libjpegWasm from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm?url';
import openjpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import openjpegWasm from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import { DicomPreviewError } from './dicom-error.js';

/**
 * The Cornerstone WebAssembly builds of CharLS (JPEG-LS), OpenJPEG (JPEG 2000) and libjpeg-turbo
 * (8-bit JPEG), loaded on first use only: a record without such pixel data never downloads them.
 * Vite emits each .wasm as an asset; `locateFile` points Emscripten at it.
 */
export type WasmCodec = 'jpeg-ls' | 'jpeg-2000' | 'jpeg-8bit';

export interface CodecOutput {
  readonly width: number;
  readonly height: number;
  readonly bitsPerSample: number;
  readonly components: number;
  readonly signed: boolean;
  /** JPEG-LS only: 0 means the colour components come plane after plane. */
  readonly interleaveMode: number;
  /** A copy: the codec's own buffer lives in WASM memory and is reused by the next decode. */
  readonly bytes: Uint8Array;
}

type DecoderFactory = () => Promise<() => EmscriptenCodecDecoder>;

// `print`: OpenJPEG reports progress ("[INFO] Main header has been correctly decoded") on stdout; errors
// still arrive as exceptions (and on printErr).
const locate = (wasmUrl: string) => ({ locateFile: (path: string) => (path.endsWith('.wasm') ? wasmUrl : path), print: () => {} });

const factories: Record<WasmCodec, DecoderFactory> = {
  'jpeg-ls': async () => {
    const module = await charlsFactory(locate(charlsWasm));
    return () => new module.JpegLSDecoder();
  },
  'jpeg-2000': async () => {
    const module = await openjpegFactory(locate(openjpegWasm));
    return () => new module.J2KDecoder();
  },
  'jpeg-8bit': async () => {
    const module = await libjpegFactory(locate(libjpegWasm));
    return () => new module.JPEGDecoder();
  },
};

const loaded = new Map<WasmCodec, Promise<() => EmscriptenCodecDecoder>>();

export async function decodeWithWasm(codec: WasmCodec, encoded: Uint8Array): Promise<CodecOutput> {
  let factory = loaded.get(codec);
  if (!factory) {
    factory = factories[codec]();
    loaded.set(codec, factory);
    factory.catch(() => loaded.delete(codec));
  }
  let create: () => EmscriptenCodecDecoder;
  try {
    create = await factory;
  } catch (cause) {
    throw new DicomPreviewError('decoder-failed', 'The image decoder could not be loaded on this device.', { codec }, cause);
  }
  const decoder = create();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const interleaveMode = 'getInterleaveMode' in decoder ? (decoder as EmscriptenCodecDecoder & { getInterleaveMode(): number }).getInterleaveMode() : 1;
    return {
      width: info.width,
      height: info.height,
      bitsPerSample: info.bitsPerSample,
      components: info.componentCount,
      signed: info.isSigned,
      interleaveMode,
      bytes: decoder.getDecodedBuffer().slice(),
    };
  } catch (cause) {
    throw new DicomPreviewError('decoder-failed', 'This DICOM image could not be decoded; its compressed data may be damaged.', { codec, cause: String(cause) }, cause);
  } finally {
    decoder.delete();
  }
}
