import type { BodyEncoding, ImageInfo } from '../core/metadata.js';
import { throwIfAborted } from '../core/progress.js';
import { webpFits } from '../core/webp-container.js';
import type { SniffedType } from './decoders/sniff.js';
import { deflateFilteredRows, inflateFilteredRows } from './deflate.js';
import { decodeWebpBody, encodeWebpBody, type WebpSettings } from './webp-body.js';

/**
 * Which lossless body an image record gets (FORMAT.md §6.2, §6.4). `filtered-deflate-raw` always works
 * (any pixel format, native DEFLATE, fast); lossless WebP is also tried where it pays, and the smaller
 * body is kept. Settings and limits by measurement (bench/webp-settings.ts, bench/README.md "Lossless
 * WebP"): on real PNG screenshots, charts and diagrams WebP at libwebp's -z 6 (method 4, quality 75)
 * is a median 0.34× of the filtered-DEFLATE body for about the same time; on photos (decoded from JPEG,
 * or saved as PNG) it saves 15–25%, and -z 1 does that for less than the DEFLATE time where -z 6 costs 3–6×.
 */

/** libwebp -z 6: the best size per time on screenshots/diagrams (-z 8 is ~2.7× slower for ~1% less). */
export const WEBP_SETTINGS: WebpSettings = { method: 4, quality: 75 };
/** libwebp -z 1 for photos: within 3–8% of -z 6's size on camera pixels, 4–5× faster. */
export const WEBP_PHOTO_SETTINGS: WebpSettings = { method: 1, quality: 20 };
/**
 * Camera-like content (sensor or JPEG noise) is where -z 6 is slow and gains least. The DEFLATE body,
 * made first, tells: on the real images of bench/webp-settings.ts screenshots, charts and diagrams
 * deflate to 0.013–0.09 of their raw pixels, photos (also saved as PNG) to 0.26–0.64.
 */
export const PHOTO_LIKE_DEFLATE_RATIO = 0.15;
/**
 * Above this, WebP is not tried: decoding at open time would pass ~1 s on the reference machine
 * (bench/README.md), and encoding several seconds on a phone.
 */
export const WEBP_MAX_PIXELS = 16 * 1024 * 1024;

export interface PixelBody {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly bodyEncoding: Extract<BodyEncoding, 'filtered-deflate-raw' | 'webp-lossless'>;
}

/**
 * Whether WebP is tried for a source of this type and size, and with which settings; `deflateRatio` is
 * the DEFLATE body's length over the raw pixels'.
 */
export function webpSettingsFor(image: ImageInfo, source: SniffedType, deflateRatio: number): WebpSettings | undefined {
  if (!webpFits(image) || image.width * image.height > WEBP_MAX_PIXELS) return undefined;
  return source === 'jpeg' || deflateRatio > PHOTO_LIKE_DEFLATE_RATIO ? WEBP_PHOTO_SETTINGS : WEBP_SETTINGS;
}

/**
 * The smaller of the two lossless bodies for these pixels. WebP failing (WASM not loadable, out of
 * memory) is not an error: the DEFLATE body is always valid, so protecting still succeeds.
 */
export async function encodePixelBody(pixels: Uint8Array, image: ImageInfo, source: SniffedType, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<PixelBody> {
  // When WebP may follow (one WASM call, no progress of its own), DEFLATE reports the first half.
  const share = webpFits(image) && image.width * image.height <= WEBP_MAX_PIXELS ? 0.5 : 1;
  const deflated = await deflateFilteredRows(pixels, image, onProgress && ((done, total) => onProgress(Math.round(done * share), total)), signal);
  const settings = webpSettingsFor(image, source, deflated.length / Math.max(1, pixels.length));
  if (!settings) return { body: deflated, bodyEncoding: 'filtered-deflate-raw' };
  throwIfAborted(signal);
  let webp: Uint8Array<ArrayBuffer>;
  try {
    webp = await encodeWebpBody(pixels, image, settings);
  } catch {
    return { body: deflated, bodyEncoding: 'filtered-deflate-raw' };
  } finally {
    onProgress?.(pixels.length, pixels.length);
  }
  throwIfAborted(signal);
  return webp.length < deflated.length ? { body: webp, bodyEncoding: 'webp-lossless' } : { body: deflated, bodyEncoding: 'filtered-deflate-raw' };
}

/** The open side: a `filtered-deflate-raw` or `webp-lossless` body → the pixels of §6.1 (METADATA_INVALID otherwise). */
export function decodePixelBody(body: Uint8Array, image: ImageInfo, encoding: PixelBody['bodyEncoding'], onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  return encoding === 'webp-lossless' ? decodeWebpBody(body, image) : inflateFilteredRows(body, image, onProgress, signal);
}
