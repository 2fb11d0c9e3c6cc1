import { asBufferSource } from '../../core/bytes.js';
import { PIXEL_FORMATS, type ImageInfo } from '../../core/metadata.js';
import { throwIfAborted } from '../../core/progress.js';
import { InputInvalidError } from '../../core/errors.js';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(parts: readonly Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32([out.subarray(4, 8 + data.length)]));
  return out;
}

const COLOR_TYPE = { RGBA8: 6, RGB8: 2, GRAY8: 0, GRAY16: 0, RGB16: 2, RGBA16: 6 } as const;
const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Filters one row (PNG §9): tries all five filters and keeps the one with the smallest sum of absolute
 * values, libpng's heuristic. `out` receives the filter byte and the filtered row.
 */
function filterRow(row: Uint8Array, previous: Uint8Array | undefined, bpp: number, out: Uint8Array, scratch: Uint8Array): void {
  const n = row.length;
  let best = -1;
  let bestSum = Infinity;
  for (let filter = 0; filter < 5; filter++) {
    if (previous === undefined && (filter === 2 || filter === 4)) continue;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = row[i]!;
      const a = i >= bpp ? row[i - bpp]! : 0;
      const b = previous ? previous[i]! : 0;
      const c = previous && i >= bpp ? previous[i - bpp]! : 0;
      const v = (filter === 0 ? x : filter === 1 ? x - a : filter === 2 ? x - b : filter === 3 ? x - ((a + b) >> 1) : x - paeth(a, b, c)) & 0xff;
      scratch[i] = v;
      sum += v < 128 ? v : 256 - v;
      if (sum >= bestSum) break;
    }
    if (sum < bestSum) {
      bestSum = sum;
      best = filter;
      out.set(scratch.subarray(0, n), 1);
    }
  }
  out[0] = best;
}

export interface EncodePngOptions {
  /** Which frame of a multi-frame record (0-based); PNG holds one. */
  readonly frame?: number | undefined;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Encodes record pixels (docs/FORMAT.md §6) as a PNG of the same bit depth, without a canvas: a canvas
 * would cut 16-bit samples to 8 and premultiply alpha. zlib comes from the browser's CompressionStream
 * ('deflate' is the zlib format PNG's IDAT needs), fed row batch by row batch so progress can be reported.
 */
export async function encodePng(pixels: Uint8Array, image: ImageInfo, options: EncodePngOptions = {}): Promise<Blob> {
  const { width, height, pixelFormat } = image;
  const format = PIXEL_FORMATS[pixelFormat];
  const bpp = format.channels * format.bytesPerSample;
  const rowBytes = width * bpp;
  const frameBytes = rowBytes * height;
  const frame = options.frame ?? 0;
  const start = frame * frameBytes;
  const source = pixels.subarray(start, start + frameBytes);

  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = format.bytesPerSample * 8;
  ihdr[9] = COLOR_TYPE[pixelFormat];

  const stream = new CompressionStream('deflate');
  const idat: Uint8Array<ArrayBuffer>[] = [];
  const collected = (async () => {
    const reader = (stream.readable as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      idat.push(chunk('IDAT', value));
    }
  })();
  const writer = stream.writable.getWriter();
  const rowsPerBatch = Math.max(1, Math.floor((1 << 20) / (rowBytes + 1)));
  let previous: Uint8Array | undefined;
  let current = new Uint8Array(rowBytes);
  let other = new Uint8Array(rowBytes);
  const scratch = new Uint8Array(rowBytes);
  try {
    if (source.length !== frameBytes) throw new InputInvalidError('The pixel data is shorter than the image size.', { expected: frameBytes, actual: source.length, frame });
    for (let y = 0; y < height; y += rowsPerBatch) {
      throwIfAborted(options.signal);
      const rows = Math.min(rowsPerBatch, height - y);
      const batch = new Uint8Array(rows * (rowBytes + 1));
      for (let r = 0; r < rows; r++) {
        const row = source.subarray((y + r) * rowBytes, (y + r + 1) * rowBytes);
        if (format.bytesPerSample === 2) {
          // Records store 16-bit samples little-endian; PNG stores them big-endian.
          for (let i = 0; i < rowBytes; i += 2) {
            current[i] = row[i + 1]!;
            current[i + 1] = row[i]!;
          }
        } else {
          current.set(row);
        }
        filterRow(current, previous, bpp, batch.subarray(r * (rowBytes + 1), (r + 1) * (rowBytes + 1)), scratch);
        previous = current;
        [current, other] = [other, current];
      }
      await writer.write(asBufferSource(batch));
      options.onProgress?.(y + rows, height);
    }
    await writer.close();
  } catch (error) {
    collected.catch(() => {});
    await writer.abort(error).catch(() => {});
    throw error;
  }
  await collected;
  return new Blob([SIGNATURE, chunk('IHDR', ihdr), ...idat, chunk('IEND', new Uint8Array(0))], { type: 'image/png' });
}
