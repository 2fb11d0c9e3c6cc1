import { throwIfAborted } from '../core/progress.js';
import { EnvelopeError } from '../core/errors.js';
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
