import { EnvelopeError } from './errors.js';
import type { ImageInfo, PixelFormat } from './metadata.js';

/**
 * The `webp-lossless` body encoding (FORMAT.md §6.4): the body is exactly one RIFF/WebP file in the
 * simple lossless format of RFC 9649 (`RIFF` size `WEBP`, one `VP8L` chunk, nothing else). Only the
 * container and the VP8L header are read here (pure, no WASM): the bitstream itself is decoded by
 * libwebp in a Worker (src/workers/webp-body.ts), and the tests' reference decoder checks it again.
 */

/** VP8L stores width − 1 and height − 1 in 14 bits each (RFC 9649 §3.2). */
export const WEBP_DIMENSION_MAX = 16_384;
/** The pixel formats a `webp-lossless` body may carry: 8-bit samples, as ARGB (§6.4). */
export const WEBP_PIXEL_FORMATS: readonly PixelFormat[] = ['GRAY8', 'RGB8', 'RGBA8'];
const VP8L_SIGNATURE = 0x2f;

export interface WebpLosslessHeader {
  readonly width: number;
  readonly height: number;
  /** The VP8L `alpha_is_used` hint: informative only (a reader never relies on it). */
  readonly alphaHint: boolean;
}

export function webpInvalid(message: string, details: Record<string, unknown> = {}): EnvelopeError {
  return new EnvelopeError('METADATA_INVALID', `The image data is not a valid lossless WebP body: ${message}`, 'The record was written by a faulty program; it cannot be shown as an image.', details);
}

/** Whether an image description may use `webp-lossless` (§6 table): 8-bit, one frame, VP8L-sized. */
export function webpFits(image: ImageInfo): boolean {
  return WEBP_PIXEL_FORMATS.includes(image.pixelFormat) && (image.frames ?? 1) === 1 && image.width <= WEBP_DIMENSION_MAX && image.height <= WEBP_DIMENSION_MAX;
}

const fourCc = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
const u32le = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/**
 * Checks the RIFF container and VP8L header of §6.4 against the record's image description;
 * METADATA_INVALID on any difference. Returns the header read.
 */
export function checkWebpLosslessContainer(body: Uint8Array, image: ImageInfo): WebpLosslessHeader {
  if (body.length < 12 + 8 + 5) throw webpInvalid('too short', { length: body.length });
  if (fourCc(body, 0) !== 'RIFF' || fourCc(body, 8) !== 'WEBP') throw webpInvalid('no RIFF/WEBP header');
  if (u32le(body, 4) !== body.length - 8) throw webpInvalid('the RIFF size is not the body length − 8', { riffSize: u32le(body, 4), length: body.length });
  if (fourCc(body, 12) !== 'VP8L') throw webpInvalid('the only chunk must be VP8L (lossless, simple format)', { chunk: fourCc(body, 12) });
  const size = u32le(body, 16);
  // One chunk, padded to an even length with a zero byte (RIFF), and nothing after it.
  if (20 + size + (size & 1) !== body.length) throw webpInvalid('the VP8L chunk size does not match the body', { chunkSize: size, length: body.length });
  if (size & 1 && body[body.length - 1] !== 0) throw webpInvalid('non-zero RIFF padding byte');
  if (size < 5) throw webpInvalid('VP8L chunk too short', { chunkSize: size });
  if (body[20] !== VP8L_SIGNATURE) throw webpInvalid('no VP8L signature byte 0x2f');
  const bits = u32le(body, 21);
  const width = (bits & 0x3fff) + 1;
  const height = ((bits >>> 14) & 0x3fff) + 1;
  const alphaHint = ((bits >>> 28) & 1) === 1;
  const version = bits >>> 29;
  if (version !== 0) throw webpInvalid('VP8L version is not 0', { version });
  if (!webpFits(image)) throw webpInvalid('the image description cannot use webp-lossless', { pixelFormat: image.pixelFormat, frames: image.frames ?? 1 });
  if (width !== image.width || height !== image.height) throw webpInvalid('its size differs from the record description', { width, height, expectedWidth: image.width, expectedHeight: image.height });
  return { width, height, alphaHint };
}

/**
 * §6.4: the pixels of §6.1 as the 8-bit RGBA a VP8L encoder takes: GRAY8 as (Y, Y, Y, 255), RGB8 with
 * A = 255, RGBA8 as is (straight alpha; RGB under A = 0 kept, so writers must encode "exact").
 */
export function pixelsToRgba(pixels: Uint8Array, image: ImageInfo): Uint8Array {
  const n = image.width * image.height;
  if (image.pixelFormat === 'RGBA8') return pixels;
  const rgba = new Uint8Array(n * 4);
  if (image.pixelFormat === 'GRAY8') {
    for (let i = 0, o = 0; i < n; i++, o += 4) {
      const y = pixels[i]!;
      rgba[o] = y;
      rgba[o + 1] = y;
      rgba[o + 2] = y;
      rgba[o + 3] = 255;
    }
  } else {
    for (let i = 0, s = 0, o = 0; i < n; i++, s += 3, o += 4) {
      rgba[o] = pixels[s]!;
      rgba[o + 1] = pixels[s + 1]!;
      rgba[o + 2] = pixels[s + 2]!;
      rgba[o + 3] = 255;
    }
  }
  return rgba;
}

/**
 * §6.4, the reader's side: decoded RGBA → the declared pixel format. A pixel that the declared format
 * cannot hold (alpha ≠ 255 in GRAY8/RGB8, R, G, B not all equal in GRAY8) is METADATA_INVALID: a body
 * never silently loses information.
 */
export function rgbaToPixels(rgba: Uint8Array, image: ImageInfo): Uint8Array {
  const n = image.width * image.height;
  if (rgba.length !== n * 4) throw webpInvalid('the decoded image has the wrong size', { expected: n * 4, actual: rgba.length });
  const format = image.pixelFormat;
  if (format === 'RGBA8') return rgba;
  const out = new Uint8Array(n * (format === 'GRAY8' ? 1 : 3));
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    if (rgba[o + 3] !== 255) throw webpInvalid(`a pixel is not opaque in a ${format} image`, { pixel: i });
    if (format === 'GRAY8') {
      const y = rgba[o]!;
      if (rgba[o + 1] !== y || rgba[o + 2] !== y) throw webpInvalid('a pixel is not grey in a GRAY8 image', { pixel: i });
      out[i] = y;
    } else {
      out[i * 3] = rgba[o]!;
      out[i * 3 + 1] = rgba[o + 1]!;
      out[i * 3 + 2] = rgba[o + 2]!;
    }
  }
  return out;
}
