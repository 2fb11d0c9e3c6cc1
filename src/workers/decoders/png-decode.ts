import { decode, type DecodedPng } from 'fast-png';
import type { PixelFormat } from '../../core/metadata.js';
import { ImageDecodeError } from './decode-error.js';

/** A decoded still image in one of the record pixel formats (docs/FORMAT.md §6). */
export interface NativePixels {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: PixelFormat;
  readonly pixels: Uint8Array<ArrayBuffer>;
}

function damaged(reason: string, cause?: unknown): ImageDecodeError {
  return new ImageDecodeError(`This PNG could not be read: ${reason}.`, 'Protect it as a file instead, or export it again from its source.', { reason: 'png-damaged' }, cause);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** 16-bit samples as little-endian bytes (the record layout), whatever the platform's byte order. */
export function u16LittleEndian(samples: Uint16Array): Uint8Array<ArrayBuffer> {
  if (LITTLE_ENDIAN) return new Uint8Array(samples.slice().buffer);
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    out[2 * i] = samples[i]! & 0xff;
    out[2 * i + 1] = samples[i]! >>> 8;
  }
  return out;
}

/** Unpacks 1-, 2- or 4-bit samples (rows start on a byte boundary) to one value per byte. */
function unpackLowDepth(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      out[y * width + x] = (data[y * rowBytes + (bit >> 3)]! >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * Decodes a PNG in JavaScript (fast-png) to its own sample values, never through a canvas: a canvas is
 * 8 bits per channel and stores colour premultiplied by alpha, so 16-bit samples and partially
 * transparent pixels would not survive it. The mapping to record formats is in docs/FORMAT.md §6.1.
 */
export function decodePngPixels(bytes: Uint8Array): NativePixels {
  let png: DecodedPng;
  try {
    png = decode(bytes, { checkCrc: true });
  } catch (cause) {
    throw damaged(cause instanceof Error ? cause.message : String(cause), cause);
  }
  const { width, height, depth, channels } = png;
  const count = width * height;
  const key = png.transparency && !png.palette ? png.transparency : undefined;

  if (png.palette) {
    const indexes = depth < 8 ? unpackLowDepth(png.data as Uint8Array, width, height, depth) : (png.data as Uint8Array);
    const out = new Uint8Array(count * 4);
    for (let i = 0; i < count; i++) {
      const entry = png.palette[indexes[i]!];
      if (!entry) throw damaged(`palette index ${indexes[i]} out of range`);
      out[4 * i] = entry[0]!;
      out[4 * i + 1] = entry[1]!;
      out[4 * i + 2] = entry[2]!;
      out[4 * i + 3] = entry[3] ?? 255;
    }
    return { width, height, pixelFormat: 'RGBA8', pixels: out };
  }

  if (depth === 16) {
    const data = png.data as Uint16Array;
    if (!key && (channels === 1 || channels === 3 || channels === 4)) {
      return { width, height, pixelFormat: channels === 1 ? 'GRAY16' : channels === 3 ? 'RGB16' : 'RGBA16', pixels: u16LittleEndian(data) };
    }
    // Gray+alpha, or a colour key (tRNS) on gray/RGB: widen to RGBA16 so the transparency is kept.
    const out = new Uint16Array(count * 4);
    for (let i = 0; i < count; i++) {
      const s = i * channels;
      const gray = channels <= 2;
      const r = data[s]!;
      const g = gray ? r : data[s + 1]!;
      const b = gray ? r : data[s + 2]!;
      let a = channels === 2 ? data[s + 1]! : channels === 4 ? data[s + 3]! : 0xffff;
      if (key && (gray ? r === key[0] : r === key[0] && g === key[1] && b === key[2])) a = 0;
      out[4 * i] = r;
      out[4 * i + 1] = g;
      out[4 * i + 2] = b;
      out[4 * i + 3] = a;
    }
    return { width, height, pixelFormat: 'RGBA16', pixels: u16LittleEndian(out) };
  }

  // Already in record layout: no copy.
  if (depth === 8 && !key && (channels === 4 || channels === 1)) {
    const own = png.data as Uint8Array;
    const pixels = own.byteOffset === 0 && own.byteLength === own.buffer.byteLength ? new Uint8Array(own.buffer as ArrayBuffer) : own.slice();
    return { width, height, pixelFormat: channels === 4 ? 'RGBA8' : 'GRAY8', pixels };
  }
  const data = depth < 8 ? unpackLowDepth(png.data as Uint8Array, width, height, depth) : (png.data as Uint8Array);
  // Low bit depths are scaled to 0…255 the way every viewer shows them (PNG spec §13.12).
  const scale = depth < 8 ? 255 / ((1 << depth) - 1) : 1;
  if (channels === 1 && !key) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = data[i]! * scale;
    return { width, height, pixelFormat: 'GRAY8', pixels: out };
  }
  const out = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) {
    const s = i * channels;
    const gray = channels <= 2;
    const rawR = data[s]!;
    const r = rawR * scale;
    const g = gray ? r : data[s + 1]!;
    const b = gray ? r : data[s + 2]!;
    let a = channels === 2 ? data[s + 1]! : channels === 4 ? data[s + 3]! : 255;
    if (key && (gray ? rawR === key[0] : rawR === key[0] && g === key[1] && b === key[2])) a = 0;
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
    out[4 * i + 3] = a;
  }
  return { width, height, pixelFormat: 'RGBA8', pixels: out };
}
