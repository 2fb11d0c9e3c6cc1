import { Decoder as LosslessJpegDecoder } from 'jpeg-lossless-decoder-js';
import { decodeJpegSequential, jpegPrecision } from '../decoders/jpeg-sequential.js';
import { DicomPreviewError } from './dicom-error.js';
import { TRANSFER_SYNTAXES, type DicomFile, type DicomPixelInfo } from './dicom-dataset.js';
import { frameSource, maskToBitsStored, nativeSamples, type SampleArray } from './dicom-frames.js';
import { decodeRle } from './rle-decode.js';

/** One decoded frame: stored values (before rescale), interleaved by pixel. */
export interface DecodedFrame {
  readonly width: number;
  readonly height: number;
  readonly samplesPerPixel: number;
  readonly samples: SampleArray;
  /**
   * What the samples are. Usually the file's Photometric Interpretation; "RGB" when the codec already
   * converted colour (libjpeg and OpenJPEG turn YCbCr into RGB as they decode).
   */
  readonly photometric: string;
}

/** Codecs that need WebAssembly; injected so the pure parts of this module also run in Node tests. */
export type WasmDecode = (codec: 'jpeg-ls' | 'jpeg-2000' | 'jpeg-8bit', encoded: Uint8Array) => Promise<{ width: number; height: number; bitsPerSample: number; components: number; signed: boolean; interleaveMode: number; bytes: Uint8Array }>;

function typed(bytes: Uint8Array, bytesPerSample: number, signed: boolean): SampleArray {
  const own = bytes.byteOffset % bytesPerSample === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset } = own;
  const length = own.byteLength / bytesPerSample;
  if (bytesPerSample === 1) return signed ? new Int8Array(buffer, byteOffset, length) : own;
  if (bytesPerSample === 2) return signed ? new Int16Array(buffer, byteOffset, length) : new Uint16Array(buffer, byteOffset, length);
  return signed ? new Int32Array(buffer, byteOffset, length) : new Uint32Array(buffer, byteOffset, length);
}

/** Codec output is often unsigned even for signed data: reinterpret, then keep the stored bits. */
function finish(samples: SampleArray, info: DicomPixelInfo): SampleArray {
  const signed = info.pixelRepresentation === 1;
  let out = samples;
  if (signed && (samples instanceof Uint16Array || samples instanceof Uint8Array || samples instanceof Uint32Array)) {
    out = samples instanceof Uint8Array ? new Int8Array(samples.buffer, samples.byteOffset, samples.length) : samples instanceof Uint16Array ? new Int16Array(samples.buffer, samples.byteOffset, samples.length) : new Int32Array(samples.buffer, samples.byteOffset, samples.length);
  }
  // Decoders return values right-aligned in their own sample size, so High Bit does not apply here.
  const bits = out.BYTES_PER_ELEMENT * 8;
  const bitsStored = Math.min(info.bitsStored, bits);
  return maskToBitsStored(out, { bitsAllocated: bits, bitsStored, highBit: bitsStored - 1, pixelRepresentation: info.pixelRepresentation });
}

/** Colour-by-plane (RR…GG…BB…) to colour-by-pixel. */
function interleave<T extends SampleArray>(planar: T, pixels: number, channels: number): T {
  const out = new (planar.constructor as new (n: number) => T)(planar.length);
  for (let c = 0; c < channels; c++) for (let i = 0; i < pixels; i++) out[i * channels + c] = planar[c * pixels + i]!;
  return out;
}

/** Y0 Y1 Cb Cr per pixel pair → Y Cb Cr per pixel (each pair shares its chroma). */
export function expandYbr422(packed: SampleArray, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x += 2) {
      const p = (y * width + x) * 2;
      const [y0, y1, cb, cr] = [packed[p]!, packed[p + 1]!, packed[p + 2]!, packed[p + 3]!];
      const o = (y * width + x) * 3;
      out[o] = y0;
      out[o + 1] = cb;
      out[o + 2] = cr;
      if (x + 1 < width) {
        out[o + 3] = y1;
        out[o + 4] = cb;
        out[o + 5] = cr;
      }
    }
  }
  return out;
}

function checkSize(info: DicomPixelInfo, width: number, height: number, components: number): void {
  if (width !== info.columns || height !== info.rows || components !== info.samplesPerPixel) {
    throw new DicomPreviewError('damaged', 'The compressed image does not have the size the file describes.', { width, height, components, rows: info.rows, columns: info.columns, samplesPerPixel: info.samplesPerPixel });
  }
}

/** Decodes one frame to its stored values, by transfer syntax. */
export async function decodeFrame(file: DicomFile, info: DicomPixelInfo, frame: number, wasm: WasmDecode): Promise<DecodedFrame> {
  const syntax = TRANSFER_SYNTAXES[file.transferSyntax];
  if (!syntax?.codec) {
    throw new DicomPreviewError('unsupported-transfer-syntax', `Images compressed as ${syntax?.name ?? file.transferSyntax} cannot be previewed here.`, { transferSyntax: file.transferSyntax });
  }
  const pixels = info.rows * info.columns;
  const spp = info.samplesPerPixel;
  const { encapsulated, bytes } = frameSource(file, info, frame);
  let samples: SampleArray;
  let photometric = info.photometric;
  switch (syntax.codec) {
    case 'native':
    case 'native-big-endian': {
      const bigEndian = syntax.codec === 'native-big-endian';
      let source = bytes;
      // Big endian OW holds 8-bit samples in byte-swapped 16-bit words (PS3.5 Annex A).
      if (bigEndian && info.bitsAllocated === 8 && file.dataSet.elements.x7fe00010?.vr === 'OW') {
        source = bytes.slice();
        for (let i = 0; i + 1 < source.length; i += 2) [source[i], source[i + 1]] = [source[i + 1]!, source[i]!];
      }
      if (info.photometric === 'YBR_FULL_422' && spp === 3 && info.bitsAllocated === 8) {
        // Native YBR_FULL_422 stores Y Y Cb Cr per pair of pixels (PS3.3 C.7.6.3.1.2): two bytes per pixel.
        const packed = nativeSamples(source, { ...info, samplesPerPixel: 2 }, bigEndian, encapsulated ? 0 : frame);
        samples = expandYbr422(packed, info.columns, info.rows);
        return { width: info.columns, height: info.rows, samplesPerPixel: 3, samples, photometric: 'YBR_FULL' };
      }
      samples = nativeSamples(source, info, bigEndian, encapsulated ? 0 : frame);
      if (info.planarConfiguration === 1 && spp > 1) samples = interleave(samples, pixels, spp);
      return { width: info.columns, height: info.rows, samplesPerPixel: spp, samples, photometric };
    }
    case 'rle': {
      const bytesPerSample = Math.ceil(info.bitsAllocated / 8);
      samples = finish(typed(decodeRle(bytes, pixels, spp, bytesPerSample), bytesPerSample, false), info);
      break;
    }
    case 'jpeg': {
      if (jpegPrecision(bytes) === 8) {
        const out = await wasm('jpeg-8bit', bytes);
        checkSize(info, out.width, out.height, out.components);
        samples = finish(out.bytes, info);
        if (out.components === 3) photometric = 'RGB';
      } else {
        const out = decodeJpegSequential(bytes);
        checkSize(info, out.width, out.height, out.components);
        samples = finish(out.samples, info);
      }
      break;
    }
    case 'jpeg-lossless': {
      let decoded: Uint8Array | Uint16Array;
      try {
        const own = bytes.slice();
        decoded = new LosslessJpegDecoder().decode(own.buffer, 0, own.length, info.bitsAllocated <= 8 ? 1 : 2);
      } catch (cause) {
        throw new DicomPreviewError('decoder-failed', 'This JPEG Lossless image could not be decoded.', { cause: String(cause) }, cause);
      }
      samples = finish(decoded, info);
      break;
    }
    case 'jpeg-ls':
    case 'jpeg-2000': {
      const out = await wasm(syntax.codec, bytes);
      checkSize(info, out.width, out.height, out.components);
      const bytesPerSample = out.bitsPerSample <= 8 ? 1 : 2;
      samples = finish(typed(out.bytes, bytesPerSample, false), info);
      if (syntax.codec === 'jpeg-ls' && out.components > 1 && out.interleaveMode === 0) samples = interleave(samples, pixels, out.components);
      // OpenJPEG applies the inverse colour transform of YBR_RCT/YBR_ICT itself.
      if (syntax.codec === 'jpeg-2000' && out.components === 3) photometric = 'RGB';
      break;
    }
  }
  if (samples.length < pixels * spp) throw new DicomPreviewError('damaged', 'The decoded image is smaller than the file describes.', { samples: samples.length, expected: pixels * spp });
  return { width: info.columns, height: info.rows, samplesPerPixel: spp, samples: samples.subarray(0, pixels * spp) as SampleArray, photometric };
}
