import * as UTIF from 'utif2';
import { isAnimated, jpegIsTruncated, MIME_BY_TYPE, SNIFF_BYTES, sniffType, type SniffedType } from '../workers/decoders/sniff.js';

/**
 * How an image kept as a file (its original bytes) can be shown in the app:
 * - `picture`: the browser shows it as an inert image (GIF, APNG and WebP animations play);
 * - `pages`: decoded here page by page (TIFF, through utif2);
 * - `damaged`: it cannot be shown, and `reason` says why, in the same words for every format.
 */
export type ImageView =
  | { readonly kind: 'picture'; readonly blob: Blob; readonly animated: boolean; readonly note: string | null }
  | { readonly kind: 'pages'; readonly pages: readonly ImageBitmap[]; readonly total: number; readonly note: string | null }
  | { readonly kind: 'damaged'; readonly reason: string };

const MAX_TIFF_PAGES = 50;
const BROWSER_TYPES: readonly SniffedType[] = ['png', 'jpeg', 'gif', 'webp', 'bmp', 'avif'];

export const DAMAGED_REASONS = {
  truncated: 'The file ends early: part of the image is missing, and this device cannot show the rest. The file was kept exactly as received.',
  truncatedShown: 'The file ends early: part of the image is missing. What there is is shown; the file was kept exactly as received.',
  unreadable: 'The image is damaged or in a form this device cannot read. It was kept exactly as received: save it and try another viewer.',
  empty: 'The file holds no image this device can read. It was kept exactly as received.',
} as const;

async function canDecode(blob: Blob): Promise<boolean> {
  try {
    const bitmap = await createImageBitmap(blob);
    bitmap.close();
    return true;
  } catch {
    return false;
  }
}

async function tiffPages(bytes: ArrayBuffer): Promise<ImageView> {
  let ifds: UTIF.IFD[];
  try {
    ifds = UTIF.decode(bytes);
  } catch {
    return { kind: 'damaged', reason: DAMAGED_REASONS.unreadable };
  }
  const images = ifds.filter((ifd) => ifd['t256'] !== undefined && ifd['t257'] !== undefined);
  const pages: ImageBitmap[] = [];
  for (const ifd of images.slice(0, MAX_TIFF_PAGES)) {
    try {
      UTIF.decodeImage(bytes, ifd);
      const rgba = UTIF.toRGBA8(ifd);
      if (!ifd.width || !ifd.height || rgba.length < ifd.width * ifd.height * 4) continue;
      const pixels = new Uint8ClampedArray(ifd.width * ifd.height * 4);
      pixels.set(rgba.subarray(0, pixels.length));
      pages.push(await createImageBitmap(new ImageData(pixels, ifd.width, ifd.height)));
    } catch {
      // One unreadable page does not hide the others; none at all is "damaged" below.
    }
  }
  if (pages.length === 0) return { kind: 'damaged', reason: images.length ? DAMAGED_REASONS.unreadable : DAMAGED_REASONS.empty };
  const note = images.length > pages.length ? `${images.length - pages.length} of ${images.length} pages could not be shown.` : null;
  return { kind: 'pages', pages, total: images.length, note };
}

/** Undefined when the file is not an image at all (PDF, DICOM, text…): it is then offered as a file only. */
export async function prepareImageView(blob: Blob): Promise<ImageView | undefined> {
  const head = new Uint8Array(await blob.slice(0, SNIFF_BYTES).arrayBuffer());
  const type = sniffType(head);
  if (type === 'tiff') return tiffPages(await blob.arrayBuffer());
  if (!BROWSER_TYPES.includes(type)) return undefined;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  // A typed copy, so the browser treats it as an image and nothing else (no script, no sniffing).
  const typed = new Blob([bytes], { type: MIME_BY_TYPE[type as Exclude<SniffedType, 'unknown'>] });
  const truncated = type === 'jpeg' && jpegIsTruncated(bytes);
  if (!(await canDecode(typed))) return { kind: 'damaged', reason: truncated ? DAMAGED_REASONS.truncated : DAMAGED_REASONS.unreadable };
  return { kind: 'picture', blob: typed, animated: isAnimated(type, bytes), note: truncated ? DAMAGED_REASONS.truncatedShown : null };
}
