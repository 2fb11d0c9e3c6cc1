import { EhrVaultError } from '../core/errors.js';

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** RGBA8, straight alpha, row-major, top row first: FORMAT.md §6. */
  readonly pixels: Uint8Array;
}

/** Image types the browser decodes to pixels; anything else is protected as its original bytes. */
export const DECODABLE_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp', 'image/avif'] as const;

export function isDecodableImageType(mime: string): boolean {
  return (DECODABLE_IMAGE_TYPES as readonly string[]).includes(mime.toLowerCase());
}

/**
 * Largest canvas area we attempt: Chromium refuses canvases above 268,435,456 pixels (16384² is the
 * usual per-side limit on phones). Beyond this the record is protected as its original bytes.
 */
export const MAX_DECODE_PIXELS = 16384 * 16384;

export class ImageDecodeError extends EhrVaultError {
  constructor(message: string, hint: string, details: Record<string, unknown> = {}, cause?: unknown) {
    super('INPUT_INVALID', message, hint, { ...details, decode: true }, { cause });
  }
}

/**
 * Decodes an image to its RGBA pixel matrix in a Worker.
 *
 * - `imageOrientation: 'from-image'`: EXIF orientation is applied, so the pixels are the image as it is
 *   displayed (a portrait phone photo stays portrait after opening).
 * - `colorSpaceConversion: 'none'` and `premultiplyAlpha: 'none'`: the decoder's sample values, not values
 *   converted to the display's colour space or multiplied by alpha.
 * - GIF and animated WebP give their first frame.
 */
export async function decodeImage(blob: Blob): Promise<DecodedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (cause) {
    throw new ImageDecodeError('This image could not be read; it may be damaged or in a format the browser does not know.', 'Protect it as a file instead, or export it again from its source.', {}, cause);
  }
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_DECODE_PIXELS) {
      throw new ImageDecodeError(`The image is ${width}×${height} pixels, too large to decode on this device.`, 'Protect it as a file: its original bytes are kept exactly.', { width, height });
    }
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
    if (!context) throw new ImageDecodeError('This device could not create a canvas to read the image.', 'Protect it as a file instead.');
    context.drawImage(bitmap, 0, 0);
    const data = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
    return { width, height, pixels: new Uint8Array(data.data.buffer, data.data.byteOffset, data.data.byteLength) };
  } finally {
    bitmap.close();
  }
}
