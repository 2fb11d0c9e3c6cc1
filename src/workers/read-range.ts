/**
 * Reads a byte range of a Blob into a buffer that is reused from one call to the next in this thread.
 * `slice().arrayBuffer()` allocates a new buffer per read, which stays in memory until the garbage collector
 * runs: with two pool workers reading 16 MiB each, that garbage was most of the renderer's peak at 1 GiB
 * (bench/README). A BYOB reader fills one buffer instead; the buffer moves to the caller and comes back
 * with `recycleRange`.
 */
let spare: ArrayBuffer | undefined;

export async function readRange(blob: Blob, start: number, end: number): Promise<Uint8Array<ArrayBuffer>> {
  const length = Math.max(0, end - start);
  let buffer = spare && spare.byteLength >= length ? spare : new ArrayBuffer(length);
  spare = undefined;
  if (length === 0) return new Uint8Array(buffer, 0, 0);
  const reader = blob.slice(start, end).stream().getReader({ mode: 'byob' });
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

/** Gives a buffer from `readRange` back for the next read, once nothing uses its bytes any more. */
export function recycleRange(bytes: Uint8Array<ArrayBuffer>): void {
  if (!spare || bytes.buffer.byteLength > spare.byteLength) spare = bytes.buffer;
}
