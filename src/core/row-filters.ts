import { EnvelopeError } from './errors.js';
import { PIXEL_FORMATS, type ImageInfo } from './metadata.js';

/**
 * PNG's adaptive row filters (ISO/IEC 15948 §9, FORMAT.md §6.2) over an image body, then raw DEFLATE:
 * the `filtered-deflate-raw` body encoding. Filters turn smooth photos and scans into small residuals
 * DEFLATE codes well; measured against raw DEFLATE, lossless WebP and JPEG XL in bench/codecs.ts.
 *
 * The DEFLATE around it lives outside the core (src/workers/deflate.ts: the browser's native zlib;
 * node:zlib in the CLI), so the core stays free of compression code.
 *
 * The body's rows (height × frames rows of width × channels × bytesPerSample bytes, frames one after
 * another, as §6.1 lays them out) are filtered as one tall image: each row gets one filter-type byte and
 * its filtered bytes; "bpp" is the bytes of one pixel; the row above the first row is zero.
 */
export const FILTER_NONE = 0;
export const FILTER_SUB = 1;
export const FILTER_UP = 2;
export const FILTER_AVERAGE = 3;
export const FILTER_PAETH = 4;

export interface RowGeometry {
  /** Bytes of one row. */
  readonly rowBytes: number;
  /** Bytes of one pixel: the filters' left neighbour distance. */
  readonly bpp: number;
  /** Rows of all frames together. */
  readonly rows: number;
}

export function rowGeometry(image: ImageInfo): RowGeometry {
  const format = PIXEL_FORMATS[image.pixelFormat];
  const bpp = format.channels * format.bytesPerSample;
  return { rowBytes: image.width * bpp, bpp, rows: image.height * (image.frames ?? 1) };
}

/** Length of the filtered (not yet deflated) stream: one filter byte in front of every row. */
export function filteredLength(image: ImageInfo): number {
  const g = rowGeometry(image);
  return g.rows * (1 + g.rowBytes);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/** Residual byte as a signed value: PNG's minimum-sum-of-absolute-differences heuristic sums these. */
function cost(v: number): number {
  return v < 128 ? v : 256 - v;
}

/** The row above the first: zeros, long enough for any row (grown on demand). */
let zeros = new Uint8Array(0);
function zeroRow(length: number): Uint8Array {
  if (zeros.length < length) zeros = new Uint8Array(length);
  return zeros;
}

/**
 * Filters one row (`row`, with `prior` the row above, zero for the first) into `out[0]` (type) and
 * `out[1 …]`, choosing the filter whose residuals have the least sum of absolute values (PNG's
 * recommended heuristic, W3C PNG §12.8). `forced` fixes the filter (tests, vectors). The first bpp
 * bytes (no left neighbour) and the rest are separate loops, so the hot loop has no branches on
 * position: this is most of a photo's encode time.
 */
export function filterRow(row: Uint8Array, prior: Uint8Array | undefined, bpp: number, out: Uint8Array, forced?: number): void {
  const n = row.length;
  const up = prior ?? zeroRow(n);
  const head = Math.min(bpp, n);
  let best = forced ?? -1;
  if (best < 0) {
    let sNone = 0;
    let sSub = 0;
    let sUp = 0;
    let sAvg = 0;
    let sPaeth = 0;
    for (let i = 0; i < head; i++) {
      const x = row[i]!;
      const b = up[i]!;
      const c0 = cost(x);
      sNone += c0;
      sSub += c0;
      sUp += cost((x - b) & 0xff);
      sAvg += cost((x - (b >> 1)) & 0xff);
      sPaeth += cost((x - b) & 0xff);
    }
    for (let i = head; i < n; i++) {
      const x = row[i]!;
      const a = row[i - bpp]!;
      const b = up[i]!;
      const c = up[i - bpp]!;
      sNone += cost(x);
      sSub += cost((x - a) & 0xff);
      sUp += cost((x - b) & 0xff);
      sAvg += cost((x - ((a + b) >> 1)) & 0xff);
      const p = a + b - c;
      const pa = p > a ? p - a : a - p;
      const pb = p > b ? p - b : b - p;
      const pc = p > c ? p - c : c - p;
      sPaeth += cost((x - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff);
    }
    // Ties go to the simpler filter (lower type), as libpng does.
    best = FILTER_NONE;
    let min = sNone;
    if (sSub < min) [best, min] = [FILTER_SUB, sSub];
    if (sUp < min) [best, min] = [FILTER_UP, sUp];
    if (sAvg < min) [best, min] = [FILTER_AVERAGE, sAvg];
    if (sPaeth < min) best = FILTER_PAETH;
  }
  out[0] = best;
  switch (best) {
    case FILTER_NONE:
      out.set(row, 1);
      break;
    case FILTER_SUB:
      for (let i = 0; i < head; i++) out[1 + i] = row[i]!;
      for (let i = head; i < n; i++) out[1 + i] = (row[i]! - row[i - bpp]!) & 0xff;
      break;
    case FILTER_UP:
      for (let i = 0; i < n; i++) out[1 + i] = (row[i]! - up[i]!) & 0xff;
      break;
    case FILTER_AVERAGE:
      for (let i = 0; i < head; i++) out[1 + i] = (row[i]! - (up[i]! >> 1)) & 0xff;
      for (let i = head; i < n; i++) out[1 + i] = (row[i]! - ((row[i - bpp]! + up[i]!) >> 1)) & 0xff;
      break;
    default:
      // Paeth with a = c = 0 predicts b.
      for (let i = 0; i < head; i++) out[1 + i] = (row[i]! - up[i]!) & 0xff;
      for (let i = head; i < n; i++) out[1 + i] = (row[i]! - paeth(row[i - bpp]!, up[i]!, up[i - bpp]!)) & 0xff;
  }
}

/** The whole filtered stream of an image body (tests and vectors; the engine streams, below). */
export function filterImage(pixels: Uint8Array, image: ImageInfo, forced?: (row: number) => number): Uint8Array {
  const g = rowGeometry(image);
  if (pixels.length !== g.rows * g.rowBytes) throw new RangeError('pixel length does not match the image size');
  const out = new Uint8Array(g.rows * (1 + g.rowBytes));
  for (let r = 0; r < g.rows; r++) {
    const row = pixels.subarray(r * g.rowBytes, (r + 1) * g.rowBytes);
    const prior = r > 0 ? pixels.subarray((r - 1) * g.rowBytes, r * g.rowBytes) : undefined;
    filterRow(row, prior, g.bpp, out.subarray(r * (1 + g.rowBytes), (r + 1) * (1 + g.rowBytes)), forced?.(r));
  }
  return out;
}

function invalid(message: string, details: Record<string, unknown> = {}): EnvelopeError {
  return new EnvelopeError('METADATA_INVALID', message, 'The record was written by a faulty program; it cannot be shown as an image.', details);
}

/** Reverses the filters in place into `pixels` (the inverse of `filterImage`); bad filter type → METADATA_INVALID. */
export function unfilterImage(filtered: Uint8Array, image: ImageInfo, pixels: Uint8Array = new Uint8Array(rowGeometry(image).rows * rowGeometry(image).rowBytes)): Uint8Array {
  const { rowBytes, bpp, rows } = rowGeometry(image);
  if (filtered.length !== rows * (1 + rowBytes)) throw invalid('The image data has the wrong size.', { expected: rows * (1 + rowBytes), actual: filtered.length });
  for (let r = 0; r < rows; r++) {
    const type = filtered[r * (1 + rowBytes)]!;
    const src = r * (1 + rowBytes) + 1;
    const dst = r * rowBytes;
    const up = dst - rowBytes;
    const hasUp = r > 0;
    switch (type) {
      case FILTER_NONE:
        pixels.set(filtered.subarray(src, src + rowBytes), dst);
        break;
      case FILTER_SUB:
        for (let i = 0; i < rowBytes; i++) pixels[dst + i] = (filtered[src + i]! + (i >= bpp ? pixels[dst + i - bpp]! : 0)) & 0xff;
        break;
      case FILTER_UP:
        for (let i = 0; i < rowBytes; i++) pixels[dst + i] = (filtered[src + i]! + (hasUp ? pixels[up + i]! : 0)) & 0xff;
        break;
      case FILTER_AVERAGE:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? pixels[dst + i - bpp]! : 0;
          const b = hasUp ? pixels[up + i]! : 0;
          pixels[dst + i] = (filtered[src + i]! + ((a + b) >> 1)) & 0xff;
        }
        break;
      case FILTER_PAETH:
        for (let i = 0; i < rowBytes; i++) {
          const a = i >= bpp ? pixels[dst + i - bpp]! : 0;
          const b = hasUp ? pixels[up + i]! : 0;
          const c = hasUp && i >= bpp ? pixels[up + i - bpp]! : 0;
          pixels[dst + i] = (filtered[src + i]! + paeth(a, b, c)) & 0xff;
        }
        break;
      default:
        throw invalid('The image data has an unknown row filter.', { row: r, filter: type });
    }
  }
  return pixels;
}
