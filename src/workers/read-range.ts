/**
 * Reads a byte range of a Blob into a buffer that is reused from one call to the next in this thread.
 * `slice().arrayBuffer()` allocates a new buffer per read, which stays in memory until the garbage collector
 * runs: with two pool workers reading 16 MiB each, that garbage was most of the renderer's peak at 1 GiB
 * (bench/README). A BYOB reader fills one buffer instead; the buffer moves to the caller and comes back
 * with `recycleRange`.
 *
 * Where `blob.stream()` is not a byte stream (Safari before 26.4: no BYOB reader for Blob streams), the
 * default reader's chunks are copied into the same reused buffer: one memcpy per chunk, and still no
 * 16 MiB of garbage per read (bench/README, "fallbacks").
 */
let spare: ArrayBuffer | undefined;

/** How ranges are read: `byob` where the engine has it, `copy` otherwise; tests may force `copy`. */
export type RangeReadMode = 'byob' | 'copy';

let mode: RangeReadMode | undefined;

/** Forces a read mode (tests); `undefined` returns to detection. */
export function setRangeReadMode(forced: RangeReadMode | undefined): void {
  mode = forced;
}

export function rangeReadMode(): RangeReadMode | undefined {
  return mode;
}

/** A BYOB reader for `stream`, or undefined where Blob streams are not byte streams (detected once). */
function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  if (mode === 'copy') return undefined;
  try {
    const reader = stream.getReader({ mode: 'byob' });
    mode = 'byob';
    return reader;
  } catch {
    // TypeError: not a readable byte stream, or no BYOB readers at all.
    mode = 'copy';
    return undefined;
  }
}

export async function readRange(blob: Blob, start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
  const length = Math.max(0, end - start);
  let buffer = spare && spare.byteLength >= length ? spare : new ArrayBuffer(length);
  spare = undefined;
  if (length === 0) return new Uint8Array(buffer, 0, 0);
  const stream = blob.slice(start, end).stream();
  const reader = byobReader(stream);
  if (!reader) return copyRange(stream, buffer, length);
  let filled = 0;
  try {
    while (filled < length) {
      // Each read takes the buffer (it is transferred) and hands it back in `value`, even when done.
      const { value, done } = await reader.read(new Uint8Array(buffer, filled, length - filled));
      if (value) buffer = value.buffer;
      if (done) break;
      filled += value!.byteLength;
    }
  } finally {
    reader.releaseLock();
  }
  return new Uint8Array(buffer, 0, filled);
}

/** The fallback: a default reader, each chunk copied into `buffer`. */
async function copyRange(stream: ReadableStream<Uint8Array>, buffer: ArrayBuffer, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const target = new Uint8Array(buffer, 0, length);
  const reader = stream.getReader();
  let filled = 0;
  try {
    while (filled < length) {
      const { value, done } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, length - filled);
      target.set(take === value.byteLength ? value : value.subarray(0, take), filled);
      filled += take;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return new Uint8Array(buffer, 0, filled);
}

/** Gives a buffer from `readRange` back for the next read, once nothing uses its bytes any more. */
export function recycleRange(bytes: Uint8Array<ArrayBuffer>): void {
  if (!spare || bytes.buffer.byteLength > spare.byteLength) spare = bytes.buffer;
}
