/**
 * Recognises a file by its first bytes, not by its name or the MIME type the browser guessed: a
 * renamed or extension-less file is still protected the right way. Pure: runs in Node tests too.
 */
export type SniffedType = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif' | 'tiff' | 'dicom' | 'unknown';

/** Bytes `sniffType` needs: DICOM's marker sits after a 128-byte preamble. */
export const SNIFF_BYTES = 132;

const ascii = (bytes: Uint8Array, at: number, text: string): boolean => {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

export function sniffType(head: Uint8Array): SniffedType {
  // First: some DICOM writers fill the preamble with a TIFF header ("dual personality" files).
  if (ascii(head, 128, 'DICM')) return 'dicom';
  if (head.length >= 8 && head[0] === 0x89 && ascii(head, 1, 'PNG\r\n\x1a\n')) return 'png';
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return 'gif';
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'webp';
  if (ascii(head, 0, 'BM') && head.length >= 26) return 'bmp';
  if (ascii(head, 4, 'ftyp') && (ascii(head, 8, 'avif') || ascii(head, 8, 'avis'))) return 'avif';
  if (ascii(head, 0, 'II*\0') || ascii(head, 0, 'MM\0*')) return 'tiff';
  return 'unknown';
}

export const MIME_BY_TYPE: Readonly<Record<Exclude<SniffedType, 'unknown'>, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  avif: 'image/avif',
  tiff: 'image/tiff',
  dicom: 'application/dicom',
};

/** Still-image types the pixel path decodes (PNG in JS, the rest through the browser's decoder). */
export const PIXEL_TYPES: readonly SniffedType[] = ['png', 'jpeg', 'gif', 'webp', 'bmp', 'avif'];

/**
 * True when the image has more than one frame. Only the first frame would survive the pixel path, so
 * such a file is kept as its original bytes instead (docs/FORMAT.md §11).
 * - GIF: a second image descriptor (0x2C) after the first image's data.
 * - WebP: the VP8X "animation" flag or an ANIM chunk.
 * - PNG: an acTL chunk (APNG) before the first IDAT.
 */
export function isAnimated(type: SniffedType, bytes: Uint8Array): boolean {
  if (type === 'png') return pngHasChunkBeforeIdat(bytes, 'acTL');
  if (type === 'webp') return webpAnimated(bytes);
  if (type === 'gif') return gifFrameCount(bytes, 2) > 1;
  return false;
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function pngHasChunkBeforeIdat(b: Uint8Array, name: string): boolean {
  let at = 8;
  while (at + 8 <= b.length) {
    const length = u32be(b, at);
    if (ascii(b, at + 4, name)) return true;
    if (ascii(b, at + 4, 'IDAT') || ascii(b, at + 4, 'IEND')) return false;
    at += 12 + length;
  }
  return false;
}

function webpAnimated(b: Uint8Array): boolean {
  let at = 12;
  while (at + 8 <= b.length) {
    const length = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0;
    if (ascii(b, at, 'VP8X') && at + 8 < b.length && (b[at + 8]! & 0x02) !== 0) return true;
    if (ascii(b, at, 'ANIM') || ascii(b, at, 'ANMF')) return true;
    at += 8 + length + (length & 1);
  }
  return false;
}

/** Counts image descriptors up to `stopAt` (enough to tell "animated"), walking the GIF block structure. */
export function gifFrameCount(b: Uint8Array, stopAt = Number.MAX_SAFE_INTEGER): number {
  if (b.length < 13) return 0;
  let at = 13;
  const flags = b[10]!;
  if (flags & 0x80) at += 3 * (1 << ((flags & 0x07) + 1));
  let frames = 0;
  const skipSubBlocks = () => {
    while (at < b.length) {
      const size = b[at++]!;
      if (size === 0) return;
      at += size;
    }
  };
  while (at < b.length) {
    const introducer = b[at++]!;
    if (introducer === 0x3b) break;
    if (introducer === 0x21) {
      at++;
      skipSubBlocks();
    } else if (introducer === 0x2c) {
      if (++frames >= stopAt) return frames;
      const localFlags = b[at + 8]!;
      at += 9;
      if (localFlags & 0x80) at += 3 * (1 << ((localFlags & 0x07) + 1));
      at++; // LZW minimum code size
      skipSubBlocks();
    } else {
      break;
    }
  }
  return frames;
}

/**
 * True when a JPEG ends before its End-Of-Image marker. Browsers decode such a file silently and paint
 * the missing rows grey; the grey would then be protected as if it were the image. Walks the marker
 * segments and the entropy-coded data of every scan (progressive files have several) until EOI.
 */
export function jpegIsTruncated(b: Uint8Array): boolean {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return true;
    const marker = b[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd9) return false;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = (b[at + 2]! << 8) | b[at + 3]!;
    at += 2 + length;
    if (marker !== 0xda) continue;
    // Entropy-coded data: ends at the first marker that is not a stuffed 00 or a restart marker.
    while (at + 1 < b.length) {
      if (b[at] === 0xff) {
        const next = b[at + 1]!;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          at += next === 0xff ? 1 : 2;
          continue;
        }
        break;
      }
      at++;
    }
  }
  return !(at + 2 <= b.length && b[at] === 0xff && b[at + 1] === 0xd9);
}
