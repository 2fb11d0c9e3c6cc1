import { plannedEnvelopeLength } from '../core/envelope-header.js';
import { HEAD_LENGTH } from '../core/object-head.js';
import { objectBodyLength } from '../core/padding.js';
import { sniffType, type SniffedType } from '../workers/decoders/sniff.js';

/**
 * What a selected file will cost to upload, shown before protecting (issue #15 item 2). Pixels are only
 * known after decoding, so a pixel-mode figure is an estimate from the image's dimensions and the ratio
 * measured in bench/codecs.ts; a file kept as its original bytes is exact up to compression (JPEG and
 * WebP do not compress further, so for them it is exact).
 */
export interface UploadEstimate {
  /** Sealed bytes as the app will store it by default (pixels for still images, else the file). */
  readonly bytes: number;
  /** True when `bytes` is an estimate (pixels not decoded yet, or a file that may compress). */
  readonly approximate: boolean;
  /** Pixel mode: the image's size, read from its header. */
  readonly pixels?: { readonly width: number; readonly height: number; readonly channels: number } | undefined;
  /** A lossy original (JPEG, WebP): the exact upload if its original file is kept instead. */
  readonly keepOriginalBytes?: number | undefined;
}

/**
 * Compressed pixel body / raw pixel bytes of a photo decoded from a phone JPEG. Filters + DEFLATE:
 * 0.64 on the real photo of bench/codecs.ts, 0.35 on a smoother generated one. Lossless WebP -z 1 (what
 * the engine keeps up to 16 MiP, src/workers/pixel-body.ts): 0.52 and 0.41 on the real photos of
 * bench/webp-settings.ts; 0.55 errs on the side of more.
 */
export const PHOTO_BODY_RATIO = 0.64;
export const PHOTO_WEBP_BODY_RATIO = 0.55;
/**
 * 8-bit PNGs get a lossless WebP body when smaller (pixel-body.ts); body / PNG file on the real PNGs of
 * bench/webp-settings.ts depends on what the picture is. Photos saved as PNG (the file is ≥ 0.2 of the raw
 * pixels): 0.63–0.79, estimated 0.75. Screenshots, charts, diagrams (the file is < 0.2 of the pixels):
 * 0.16–0.68, estimated 0.35 (near their geometric mean).
 */
const PNG_PHOTO_BODY_RATIO = 0.75;
const PNG_GRAPHIC_BODY_RATIO = 0.35;
/** 16-bit PNGs (row filters + DEFLATE only) give about the PNG's own size (bench/codecs.ts, 1.00×). */
const PNG_BODY_RATIO = 1.0;
/** Mirrors pixel-body.ts WEBP_MAX_PIXELS: larger images keep filters + DEFLATE. */
const WEBP_MAX_PIXELS = 16 * 1024 * 1024;
/**
 * The stated tolerance of a pixel-mode estimate ("about"): the sealed upload is within this factor of
 * it either way — measured on the real photos and PNGs of the benches (worst: a chart PNG whose WebP body
 * is 0.16 of its file, estimated 2.2× too high) and checked in tests/unit/services/upload-estimate.test.ts.
 */
export const PIXEL_ESTIMATE_TOLERANCE = 2.5;
const HEADER_BYTES = 256 * 1024;

/** Sealed bytes of a record whose body has `bodyBytes` bytes (FORMAT.md §4.3: n + p objects of 92 + B bytes). */
export function sealedBytes(bodyBytes: number, name: string, n: number, parity = 0): number {
  const metadata = { kind: 'file' as const, name, mime: 'application/octet-stream', byteLength: Math.max(0, Math.round(bodyBytes)), createdAt: 0 };
  return (n + parity) * (HEAD_LENGTH + objectBodyLength(plannedEnvelopeLength(metadata), n));
}

/** Width, height and colour channels from an image's header bytes; undefined when not found. */
export function imageDimensions(type: SniffedType, b: Uint8Array): { width: number; height: number; channels: number; bitDepth?: 16 } | undefined {
  const u16 = (at: number) => (b[at]! << 8) | b[at + 1]!;
  const u16le = (at: number) => b[at]! | (b[at + 1]! << 8);
  const u24le = (at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
  const u32 = (at: number) => (b[at]! * 2 ** 24 + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!);
  if (type === 'png' && b.length >= 26) {
    const colour = b[25]!;
    return { width: u32(16), height: u32(20), channels: colour === 0 ? 1 : colour === 4 ? 2 : colour === 6 ? 4 : 3, ...(b[24] === 16 ? { bitDepth: 16 } : {}) };
  }
  if (type === 'jpeg') {
    // Walk the markers to the first SOFn (C0–CF except C4 DHT, C8 JPG, CC DAC).
    let at = 2;
    while (at + 9 < b.length) {
      if (b[at] !== 0xff) return undefined;
      const marker = b[at + 1]!;
      if (marker === 0xff) {
        at++;
        continue;
      }
      const length = u16(at + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: u16(at + 5), width: u16(at + 7), channels: b[at + 9] === 1 ? 1 : 3 };
      }
      at += 2 + length;
    }
    return undefined;
  }
  if (type === 'webp' && b.length >= 30) {
    const chunk = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
    if (chunk === 'VP8X') return { width: u24le(24) + 1, height: u24le(27) + 1, channels: b[20]! & 0x10 ? 4 : 3 };
    if (chunk === 'VP8L') {
      const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24);
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, channels: (bits >>> 28) & 1 ? 4 : 3 };
    }
    if (chunk === 'VP8 ') return { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff, channels: 3 };
  }
  return undefined;
}

/** The estimate for one selected file, for a sequence key of n characters and p parity objects. */
export async function estimateUpload(file: Blob & { readonly name?: string }, n: number, parity = 0, asFile = false): Promise<UploadEstimate> {
  const name = file.name ?? '';
  const head = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
  const type = sniffType(head);
  const original = sealedBytes(file.size, name, n, parity);
  const lossy = type === 'jpeg' || type === 'webp';
  const dims = asFile ? undefined : imageDimensions(type, head);
  if (!dims) {
    // A file may still compress (DICOM, PDF, text): the figure is then an upper bound.
    return { bytes: original, approximate: !lossy };
  }
  const bytesPerSample = dims.bitDepth === 16 ? 2 : 1;
  const pixelBytes = dims.width * dims.height * (dims.channels === 2 ? 4 : dims.channels) * bytesPerSample;
  const webp = bytesPerSample === 1 && dims.width <= 16_384 && dims.height <= 16_384 && dims.width * dims.height <= WEBP_MAX_PIXELS;
  let body: number;
  if (type === 'png') {
    const ratio = !webp ? PNG_BODY_RATIO : file.size >= 0.2 * pixelBytes ? PNG_PHOTO_BODY_RATIO : PNG_GRAPHIC_BODY_RATIO;
    body = Math.min(pixelBytes, file.size * ratio);
  } else {
    body = pixelBytes * (webp ? PHOTO_WEBP_BODY_RATIO : PHOTO_BODY_RATIO);
  }
  const { bitDepth: _depth, ...pixels } = dims;
  return { bytes: sealedBytes(body, name, n, parity), approximate: true, pixels, ...(lossy ? { keepOriginalBytes: original } : {}) };
}
