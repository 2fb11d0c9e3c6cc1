import { throwIfAborted } from '../core/progress.js';
import { deflateRaw } from './deflate.js';

/**
 * Which files are compressed (FORMAT.md §6.3): those of at most one pool segment (32 chunks of 512 KiB),
 * whose first 256 KiB deflate to at most 95% — already-compressed data (JPEG inside DICOM, ZIP, most
 * media) fails that test in a few milliseconds and is stored as it is. A larger file keeps the
 * identity encoding so its chunks stay sealed and opened in parallel by the segment pool, each at a
 * fixed offset (§7.1); measured in bench/codecs.ts.
 */
export const FILE_COMPRESS_MAX_BYTES = 16 * 1024 * 1024;
export const COMPRESSION_SAMPLE_BYTES = 256 * 1024;
/** Compressed / original above this counts as incompressible: the saving would not pay for the inflate. */
export const INCOMPRESSIBLE_RATIO = 0.95;

export function worthCompressing(originalBytes: number, compressedBytes: number): boolean {
  return originalBytes > 0 && compressedBytes <= originalBytes * INCOMPRESSIBLE_RATIO;
}

/** The raw DEFLATE of the whole file when it is small enough and compresses; otherwise undefined. */
export async function compressFileIfWorthIt(source: Blob, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (source.size === 0 || source.size > FILE_COMPRESS_MAX_BYTES) return undefined;
  const sample = new Uint8Array(await source.slice(0, COMPRESSION_SAMPLE_BYTES).arrayBuffer());
  throwIfAborted(signal);
  if (!worthCompressing(sample.length, (await deflateRaw(sample)).length)) return undefined;
  const compressed = sample.length === source.size ? await deflateRaw(sample) : await deflateRaw(new Uint8Array(await source.arrayBuffer()), onProgress, signal);
  onProgress?.(source.size, source.size);
  return worthCompressing(source.size, compressed.length) ? compressed : undefined;
}
