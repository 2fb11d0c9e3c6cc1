import type { PixelFormat } from '../core/metadata.js';
import { ImageDecodeError } from './decoders/decode-error.js';
import { decodePngPixels } from './decoders/png-decode.js';
import { isAnimated, jpegIsTruncated, MIME_BY_TYPE, PIXEL_TYPES, sniffType, type SniffedType } from './decoders/sniff.js';
import { isDicom, mayBeRawDicom, RAW_DICOM_PROBE_BYTES } from './dicom/dicom-dataset.js';

export { ImageDecodeError } from './decoders/decode-error.js';

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** The record pixel format (FORMAT.md §6): PNG keeps its own; browser-decoded formats are RGBA8 or GRAY8. */
  readonly pixelFormat: PixelFormat;
  /** Row-major, top row first, straight alpha, 16-bit samples little-endian: FORMAT.md §6. */
  readonly pixels: Uint8Array<ArrayBuffer>;
}

/** Image types the browser decodes to pixels; anything else is protected as its original bytes. */
export const DECODABLE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/avif'] as const;

/**
 * Largest canvas area we attempt: Chromium refuses canvases above 268,435,456 pixels (16384² is the
 * usual per-side limit on phones). Beyond this the record is protected as its original bytes.
 */
export const MAX_DECODE_PIXELS = 16384 * 16384;

/** Why a source is kept as its original bytes rather than as pixels (docs/FORMAT.md §11). */
export type OriginalBytesReason = 'dicom' | 'animated' | 'truncated' | 'not-decodable-here' | 'not-an-image' | 'too-large' | 'requested';

export interface SourceInspection {
  /** What the content is, by its bytes (not its name or the browser's MIME guess). */
  readonly type: SniffedType;
  /** MIME type by content; the given one when the content is not recognised. */
  readonly mime: string;
  readonly storeAs: 'pixels' | 'original-bytes';
  readonly reason?: OriginalBytesReason | undefined;
}

/** Reads what `inspect` needs: all of an image (frames and end markers are checked), the head of anything else. */
export async function readForInspection(blob: Blob, name: string): Promise<Uint8Array> {
  const head = new Uint8Array(await blob.slice(0, 132).arrayBuffer());
  const type = sniffType(head);
  if (PIXEL_TYPES.includes(type)) return new Uint8Array(await blob.arrayBuffer());
  return type === 'unknown' && mayBeRawDicom(name) ? new Uint8Array(await blob.slice(0, RAW_DICOM_PROBE_BYTES).arrayBuffer()) : head;
}

/**
 * Decides how a source is protected when the caller lets the engine choose (`mode: 'auto'`):
 * still images the browser or our PNG decoder reads become pixels; DICOM, animations, truncated JPEGs,
 * TIFF and everything else keep their original bytes, so nothing is lost or invented.
 */
export function inspect(bytes: Uint8Array, name: string, givenMime: string): SourceInspection {
  const type = sniffType(bytes);
  const mime = type === 'unknown' ? givenMime : MIME_BY_TYPE[type];
  if (type === 'dicom' || (type === 'unknown' && isDicom(bytes, name))) return { type: 'dicom', mime: 'application/dicom', storeAs: 'original-bytes', reason: 'dicom' };
  if (type === 'tiff') return { type, mime, storeAs: 'original-bytes', reason: 'not-decodable-here' };
  if (!PIXEL_TYPES.includes(type)) return { type, mime, storeAs: 'original-bytes', reason: 'not-an-image' };
  if (isAnimated(type, bytes)) return { type, mime, storeAs: 'original-bytes', reason: 'animated' };
  if (type === 'jpeg' && jpegIsTruncated(bytes)) return { type, mime, storeAs: 'original-bytes', reason: 'truncated' };
  return { type, mime, storeAs: 'pixels' };
}

function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : { width: 0, height: 0 };
}

function tooLarge(width: number, height: number): ImageDecodeError {
  return new ImageDecodeError(`The image is ${width}×${height} pixels, too large to decode on this device.`, 'Protect it as a file: its original bytes are kept exactly.', { width, height, reason: 'too-large' });
}

/** Number of components in a JPEG's frame header (1 = greyscale, 3 = YCbCr/RGB, 4 = CMYK/YCCK). */
function jpegComponents(bytes: Uint8Array): number | undefined {
  let at = 2;
  while (at + 10 < bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[at + 9];
    if (marker === 0xda || marker === 0xd9) return undefined;
    at += 2 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
  }
  return undefined;
}

/**
 * Decodes an image to its pixel matrix in a Worker.
 *
 * - PNG: decoded in JavaScript to its own format (GRAY8, GRAY16, RGB16, RGBA16 or RGBA8): every bit of a
 *   16-bit scan is kept, and partially transparent pixels are exact (no canvas premultiplication).
 * - JPEG, WebP, GIF, BMP, AVIF: the browser's decoder via `createImageBitmap`, read back as RGBA8 with
 *   `colorSpaceConversion: 'none'` and `premultiplyAlpha: 'none'` (the decoder's sample values), and
 *   `imageOrientation: 'from-image'`: EXIF orientation is applied, so the pixels are the image as it is
 *   displayed. A greyscale JPEG becomes GRAY8; a CMYK JPEG becomes the browser's RGB rendering of it.
 * - Animated images and truncated JPEGs are refused (reason `animated` / `truncated`): protecting the
 *   first frame, or the grey a decoder paints for missing rows, would not be the record. `mode: 'auto'`
 *   keeps their original bytes instead.
 */
export async function decodeImage(blob: Blob, bytes?: Uint8Array): Promise<DecodedImage> {
  const data = bytes ?? new Uint8Array(await blob.arrayBuffer());
  const type = sniffType(data);
  if (type === 'png') {
    const { width, height } = pngSize(data);
    if (width * height > MAX_DECODE_PIXELS) throw tooLarge(width, height);
    if (isAnimated(type, data)) throw animated();
    return dropOpaqueAlpha(decodePngPixels(data));
  }
  if (PIXEL_TYPES.includes(type) && isAnimated(type, data)) throw animated();
  if (type === 'jpeg' && jpegIsTruncated(data)) {
    throw new ImageDecodeError('This JPEG ends early: part of the image is missing.', 'Protect it as a file to keep exactly what you have, or export it again from its source.', { reason: 'truncated' });
  }
  const decoded = await decodeWithBrowser(type === 'unknown' ? blob : new Blob([data as BlobPart], { type: MIME_BY_TYPE[type as Exclude<SniffedType, 'unknown'>] }));
  if (type === 'jpeg' && jpegComponents(data) === 1) return toGray8(decoded);
  return dropOpaqueAlpha(decoded);
}

/**
 * Keeps only the channels the image has: an RGBA8 image whose every pixel is opaque is stored as RGB8
 * (FORMAT.md §13.1), a quarter fewer bytes to encrypt, compress and upload (issue 15: a phone photo went
 * up with an alpha byte per pixel that said nothing).
 */
export function dropOpaqueAlpha(image: DecodedImage): DecodedImage {
  if (image.pixelFormat !== 'RGBA8') return image;
  const { pixels } = image;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 255) return image;
  const rgb = new Uint8Array((pixels.length / 4) * 3);
  for (let i = 0, o = 0; i < pixels.length; i += 4, o += 3) {
    rgb[o] = pixels[i]!;
    rgb[o + 1] = pixels[i + 1]!;
    rgb[o + 2] = pixels[i + 2]!;
  }
  return { width: image.width, height: image.height, pixelFormat: 'RGB8', pixels: rgb };
}

function animated(): ImageDecodeError {
  return new ImageDecodeError('This image is animated; only its first frame could be kept as pixels.', 'Protect it as a file (or let the app choose): all its frames are kept exactly.', { reason: 'animated' });
}

/** A greyscale JPEG comes back from the browser as R = G = B; keep one channel, unless they differ. */
function toGray8(image: DecodedImage): DecodedImage {
  const { pixels } = image;
  const gray = new Uint8Array(pixels.length / 4);
  for (let i = 0, o = 0; i < pixels.length; i += 4, o++) {
    if (pixels[i] !== pixels[i + 1] || pixels[i] !== pixels[i + 2] || pixels[i + 3] !== 255) return image;
    gray[o] = pixels[i]!;
  }
  return { width: image.width, height: image.height, pixelFormat: 'GRAY8', pixels: gray };
}

async function decodeWithBrowser(blob: Blob): Promise<DecodedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (cause) {
    throw new ImageDecodeError('This image could not be read; it may be damaged or in a format the browser does not know.', 'Protect it as a file instead, or export it again from its source.', { reason: 'not-decodable-here' }, cause);
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_DECODE_PIXELS) throw tooLarge(width, height);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!context) throw new ImageDecodeError('This device could not create a canvas to read the image.', 'Protect it as a file instead.');
    context.drawImage(bitmap, 0, 0);
    const data = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
    return { width, height, pixelFormat: 'RGBA8', pixels: new Uint8Array(data.data.buffer, data.data.byteOffset, data.data.byteLength) };
  } finally {
    bitmap.close();
  }
}
