import { readU32, utf8Decoder, utf8Encoder, writeU32 } from './bytes.js';
import { EnvelopeError } from './errors.js';
import { webpFits } from './webp-container.js';

/**
 * How pixels are laid out in an image record's body: row-major, top row first, left to right, samples
 * interleaved; 16-bit samples little-endian. See docs/FORMAT.md §6.1.
 */
export const PIXEL_FORMATS = {
  RGBA8: { channels: 4, bytesPerSample: 1 },
  RGB8: { channels: 3, bytesPerSample: 1 },
  GRAY8: { channels: 1, bytesPerSample: 1 },
  GRAY16: { channels: 1, bytesPerSample: 2 },
  RGB16: { channels: 3, bytesPerSample: 2 },
  RGBA16: { channels: 4, bytesPerSample: 2 },
} as const;
export type PixelFormat = keyof typeof PIXEL_FORMATS;

export interface ImageInfo {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: PixelFormat;
  /** Frames stacked one after another (multi-frame studies); 1 when absent. */
  readonly frames?: number | undefined;
}

/**
 * `identity`: the body is the plaintext itself; `deflate-raw`: the body is the raw-DEFLATE of it;
 * `filtered-deflate-raw` (images only): PNG row filters, then raw DEFLATE (FORMAT.md §6.2);
 * `webp-lossless` (8-bit single-frame images only): a lossless WebP file (FORMAT.md §6.4).
 */
export type BodyEncoding = 'identity' | 'deflate-raw' | 'filtered-deflate-raw' | 'webp-lossless';
export const BODY_ENCODINGS: readonly BodyEncoding[] = ['identity', 'deflate-raw', 'filtered-deflate-raw', 'webp-lossless'];

/** Everything about a record that must not be seen in the clear: it travels encrypted (FORMAT.md §5). */
export interface RecordMetadata {
  readonly kind: 'image' | 'file';
  readonly name: string;
  readonly mime: string;
  /** Length in bytes of the body that is encrypted (after any body encoding). */
  readonly byteLength: number;
  readonly image?: ImageInfo | undefined;
  readonly bodyEncoding?: BodyEncoding | undefined;
  /** A file record with a body encoding: the original file's length (the body inflates to exactly this). */
  readonly contentLength?: number | undefined;
  /** Milliseconds since the Unix epoch when the record was protected. */
  readonly createdAt?: number | undefined;
}

export const METADATA_BLOCK_QUANTUM = 256;
export const METADATA_BLOCK_MAX = 65_536;
export const NAME_MAX_LENGTH = 1024;
export const MIME_MAX_LENGTH = 255;
const DIMENSION_MAX = 1 << 20;
const FRAMES_MAX = 1 << 16;

function invalid(message: string, details: Record<string, unknown> = {}): EnvelopeError {
  return new EnvelopeError('METADATA_INVALID', `The record's description is invalid: ${message}`, 'The record cannot be opened by this version; it may have been made by a newer or faulty program.', details);
}

function isCount(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** Bytes an image body has before any body encoding. */
export function pixelByteLength(image: ImageInfo): number {
  const format = PIXEL_FORMATS[image.pixelFormat];
  return image.width * image.height * format.channels * format.bytesPerSample * (image.frames ?? 1);
}

/** Validates a decoded or caller-built metadata object; the same rules apply in both directions. */
export function checkMetadata(value: unknown): RecordMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('not an object');
  const m = value as Record<string, unknown>;
  if (m.kind !== 'image' && m.kind !== 'file') throw invalid('unknown kind', { kind: m.kind });
  if (typeof m.name !== 'string' || m.name.length > NAME_MAX_LENGTH) throw invalid('bad name');
  if (typeof m.mime !== 'string' || m.mime.length > MIME_MAX_LENGTH || !/^([\w.+-]+\/[\w.+-]+)?$/.test(m.mime)) {
    throw invalid('bad MIME type');
  }
  if (!isCount(m.byteLength, 0, Number.MAX_SAFE_INTEGER)) throw invalid('bad byte length');
  const bodyEncoding = m.bodyEncoding ?? 'identity';
  if (typeof bodyEncoding !== 'string' || !(BODY_ENCODINGS as readonly string[]).includes(bodyEncoding)) throw invalid('unknown body encoding');
  if (bodyEncoding === 'filtered-deflate-raw' && m.kind !== 'image') throw invalid('row filters on a file record');
  if (bodyEncoding === 'webp-lossless' && m.kind !== 'image') throw invalid('a WebP body on a file record');
  // A compressed file says how long the original is: the reader inflates no more than that (§6).
  if (m.kind === 'file' && bodyEncoding !== 'identity' && !isCount(m.contentLength, 0, Number.MAX_SAFE_INTEGER)) throw invalid('a compressed file without its content length');
  if ((m.kind !== 'file' || bodyEncoding === 'identity') && m.contentLength !== undefined) throw invalid('a content length on an uncompressed or image record');
  if (m.createdAt !== undefined && !isCount(m.createdAt, 0, Number.MAX_SAFE_INTEGER)) throw invalid('bad creation time');
  let image: ImageInfo | undefined;
  if (m.kind === 'image') {
    const i = m.image as Record<string, unknown> | undefined;
    if (typeof i !== 'object' || i === null) throw invalid('image record without image information');
    if (!isCount(i.width, 1, DIMENSION_MAX) || !isCount(i.height, 1, DIMENSION_MAX)) throw invalid('bad image size');
    if (typeof i.pixelFormat !== 'string' || !Object.hasOwn(PIXEL_FORMATS, i.pixelFormat)) throw invalid('unknown pixel format');
    if (i.frames !== undefined && !isCount(i.frames, 1, FRAMES_MAX)) throw invalid('bad frame count');
    image = { width: i.width, height: i.height, pixelFormat: i.pixelFormat as PixelFormat, ...(i.frames !== undefined ? { frames: i.frames as number } : {}) };
    if (bodyEncoding === 'identity' && pixelByteLength(image) !== m.byteLength) throw invalid('pixel data length does not match the image size');
    // §6.4: VP8L holds 8-bit ARGB of at most 16384 × 16384, one image.
    if (bodyEncoding === 'webp-lossless' && !webpFits(image)) throw invalid('a WebP body needs an 8-bit single-frame image of at most 16384 × 16384', { pixelFormat: image.pixelFormat });
  } else if (m.image !== undefined) {
    throw invalid('file record with image information');
  }
  return {
    kind: m.kind,
    name: m.name,
    mime: m.mime,
    byteLength: m.byteLength,
    ...(image ? { image } : {}),
    ...(m.bodyEncoding !== undefined ? { bodyEncoding: bodyEncoding as BodyEncoding } : {}),
    ...(m.contentLength !== undefined ? { contentLength: m.contentLength as number } : {}),
    ...(m.createdAt !== undefined ? { createdAt: m.createdAt as number } : {}),
  };
}

/**
 * u32 length ‖ UTF-8 JSON ‖ zero padding to a multiple of 256 bytes. The padding hides the exact
 * length of the file name from anyone who sees the ciphertext.
 */
export function encodeMetadataBlock(metadata: RecordMetadata): Uint8Array {
  const json = utf8Encoder.encode(JSON.stringify(checkMetadata(metadata)));
  const size = Math.ceil((4 + json.length) / METADATA_BLOCK_QUANTUM) * METADATA_BLOCK_QUANTUM;
  if (size > METADATA_BLOCK_MAX) throw invalid('too large');
  const block = new Uint8Array(size);
  writeU32(block, 0, json.length);
  block.set(json, 4);
  return block;
}

export function decodeMetadataBlock(block: Uint8Array): RecordMetadata {
  if (block.length < 4 || block.length % METADATA_BLOCK_QUANTUM !== 0 || block.length > METADATA_BLOCK_MAX) throw invalid('bad block size');
  const length = readU32(block, 0);
  if (length > block.length - 4) throw invalid('length beyond block');
  // Padding must be zero: one accepted encoding per metadata value.
  for (let i = 4 + length; i < block.length; i++) if (block[i] !== 0) throw invalid('non-zero padding');
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decoder.decode(block.subarray(4, 4 + length)));
  } catch {
    throw invalid('not UTF-8 JSON');
  }
  return checkMetadata(parsed);
}
