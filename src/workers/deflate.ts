import { throwIfAborted } from '../core/progress.js';
import { EhrVaultError, EnvelopeError } from '../core/errors.js';
import type { ImageInfo } from '../core/metadata.js';
import { filteredLength, filterRow, rowGeometry, unfilterImage } from '../core/row-filters.js';
import { asBufferSource, concatBytes } from '../core/bytes.js';

async function collect(readable: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  let length = 0;
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > limit) {
      await reader.cancel();
      throw new EnvelopeError('METADATA_INVALID', 'The image data is larger than its description says.', 'The record was written by a faulty program; it cannot be shown as an image.', { limit });
    }
    parts.push(value);
  }
  return concatBytes(parts) as Uint8Array<ArrayBuffer>;
}

const FEED = 4 * 1024 * 1024;

async function transform(format: 'compress' | 'decompress', input: Uint8Array, limit: number, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  const stream = format === 'compress' ? new CompressionStream('deflate-raw') : new DecompressionStream('deflate-raw');
  const output = collect(stream.readable as ReadableStream<Uint8Array>, limit);
  const writer = stream.writable.getWriter();
  try {
    for (let at = 0; at < input.length; at += FEED) {
      throwIfAborted(signal);
      await writer.write(asBufferSource(input.subarray(at, Math.min(at + FEED, input.length))));
      onProgress?.(Math.min(at + FEED, input.length), input.length);
    }
    await writer.close();
  } catch (error) {
    output.catch(() => {});
    throw error;
  }
  return output;
}

/** Lossless raw DEFLATE (RFC 1951) through the browser's CompressionStream. */
export function deflateRaw(input: Uint8Array, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  return transform('compress', input, Number.MAX_SAFE_INTEGER, onProgress, signal);
}

/** Inflates at most `expectedLength` bytes; more is an error, so a crafted body cannot exhaust memory. */
export function inflateRaw(input: Uint8Array, expectedLength: number, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  return transform('decompress', input, expectedLength, onProgress, signal);
}

/**
 * `filtered-deflate-raw` (FORMAT.md §6.2): PNG row filters (core/row-filters.ts), then the browser's
 * native raw DEFLATE. Rows are filtered batch by batch into the stream, so the filtered copy never
 * exists whole. Native DEFLATE was smaller and faster than fflate at any level (bench/codecs.ts).
 */
export async function deflateFilteredRows(pixels: Uint8Array, image: ImageInfo, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  const { rowBytes, bpp, rows } = rowGeometry(image);
  if (pixels.length !== rows * rowBytes) throw new RangeError('pixel length does not match the image size');
  const stream = new CompressionStream('deflate-raw');
  const output = collect(stream.readable as ReadableStream<Uint8Array>, Number.MAX_SAFE_INTEGER);
  const writer = stream.writable.getWriter();
  const batch = Math.max(1, Math.floor(FEED / (rowBytes + 1)));
  try {
    for (let r0 = 0; r0 < rows; r0 += batch) {
      throwIfAborted(signal);
      const r1 = Math.min(rows, r0 + batch);
      // A fresh buffer per batch: the stream may still hold the previous one.
      const filtered = new Uint8Array((r1 - r0) * (rowBytes + 1));
      for (let r = r0; r < r1; r++) {
        const row = pixels.subarray(r * rowBytes, (r + 1) * rowBytes);
        const prior = r > 0 ? pixels.subarray((r - 1) * rowBytes, r * rowBytes) : undefined;
        filterRow(row, prior, bpp, filtered.subarray((r - r0) * (rowBytes + 1), (r - r0 + 1) * (rowBytes + 1)));
      }
      await writer.write(filtered);
      onProgress?.(r1 * rowBytes, pixels.length);
    }
    await writer.close();
  } catch (error) {
    output.catch(() => {});
    throw error;
  }
  return output;
}

/** Inflates at most the filtered length (§6.2), then reverses the filters; anything else → METADATA_INVALID. */
export async function inflateFilteredRows(body: Uint8Array, image: ImageInfo, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  const expected = filteredLength(image);
  let filtered: Uint8Array;
  try {
    filtered = await inflateRaw(body, expected, onProgress, signal);
  } catch (cause) {
    if (cause instanceof EhrVaultError) throw cause;
    throw new EnvelopeError('METADATA_INVALID', 'The image data could not be decompressed.', 'The record was written by a faulty program; it cannot be shown as an image.', { cause: String(cause) });
  }
  return unfilterImage(filtered, image) as Uint8Array<ArrayBuffer>;
}
