import { deflateSync } from 'fflate';
import { filterImage, fromHex, type ImageInfo, type KdfParams, type RecordMetadata } from '../../src/core/index.js';

/** Inputs of every committed record vector; `generate.ts` turns them into tests/vectors/*.json (FORMAT.md §12). */
export interface PositiveCase {
  readonly id: string;
  readonly description: string;
  readonly recordKey: string;
  readonly recordId: string;
  readonly sequenceKey: string;
  readonly kdf: KdfParams;
  /** The protect batch's Argon2id salt (FORMAT.md §3, §4.1), hex. */
  readonly kdfSalt: string;
  readonly noncePrefix: string;
  readonly chunkSize: number;
  readonly metadata: RecordMetadata;
  readonly plaintext: Uint8Array;
  /** Parity objects p (FORMAT.md §4.4); 0 when absent. */
  readonly parity?: number;
}

/** Small Argon2id parameters keep the vectors fast; readers accept them (FORMAT.md §3). */
export const VECTOR_KDF: KdfParams = { memoryKiB: 64, passes: 1, parallelism: 1 };

const KEY_A = '000102030405060708090a0b0c0d0e0f';
const KEY_B = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
/** Bytes 00 01 … 0f and ff fe … f0 as record ids. */
export const ID_A = 'AAECAwQFBgcICQoLDA0ODw';
export const ID_B = '__79_Pv6-fj39vX08_Lx8A';

const text = (s: string) => new TextEncoder().encode(s);
const counting = (n: number, mul = 7, add = 3) => Uint8Array.from({ length: n }, (_, i) => (i * mul + add) & 0xff);
const note = text('Patient: example. Diagnosis: fracture of the left radius; cast for six weeks.\n');
const rgb4x4 = counting(4 * 4 * 3, 13, 5);

const image = (name: string, width: number, height: number, pixelFormat: NonNullable<RecordMetadata['image']>['pixelFormat'], plaintext: Uint8Array, frames?: number): Pick<PositiveCase, 'metadata' | 'plaintext'> => ({
  metadata: { kind: 'image', name, mime: 'image/png', byteLength: plaintext.length, image: { width, height, pixelFormat, ...(frames ? { frames } : {}) }, createdAt: 1_764_000_000_000 },
  plaintext,
});

/** GRAY16 5×3, two frames: smooth 16-bit ramps; rows forced through filter types 0,1,2,3,4,0 (§6.2). */
const gray16Frames: ImageInfo = { width: 5, height: 3, pixelFormat: 'GRAY16', frames: 2 };
const gray16FramesPixels = Uint8Array.from({ length: 5 * 3 * 2 * 2 }, (_, i) => (i % 2 === 0 ? (i * 23 + 200) & 0xff : 0x0c + (i >> 4)));
const gray16FramesBody = deflateSync(filterImage(gray16FramesPixels, gray16Frames, (row) => row % 5), { level: 6 });
/** RGBA8 4×5 with the writer's own (heuristic) choice per row. */
const rgba4x5: ImageInfo = { width: 4, height: 5, pixelFormat: 'RGBA8' };
const rgba4x5Pixels = Uint8Array.from({ length: 4 * 5 * 4 }, (_, i) => (i % 4 === 3 ? 255 : ((i >> 4) * 9 + (i % 16) * 3) & 0xff));
const rgba4x5Body = deflateSync(filterImage(rgba4x5Pixels, rgba4x5), { level: 6 });
/**
 * §6.4 bodies, written once by libwebp 1.x (@jsquash/webp, lossless, exact, method 4, quality 75) and
 * kept as bytes so the vectors do not depend on the encoder's version. GRAY8 6×4: a ramp (VP8L S = 29,
 * odd: one zero padding byte). RGBA8 5×4: every third pixel fully transparent with non-zero RGB, every
 * third half transparent.
 */
const webpGray6x4Pixels = Uint8Array.from({ length: 6 * 4 }, (_, i) => (i * 11 + 7) & 0xff);
const webpGray6x4Body = fromHex('524946462a000000574542505650384c1d0000002f05c00000cd6444ff038ada36629e1dc7eaf8b3da1022620210351f0000');
const webpRgba5x4Pixels = Uint8Array.from({ length: 5 * 4 * 4 }, (_, i) => (i % 4 === 3 ? ((i >> 2) % 3 === 0 ? 0 : (i >> 2) % 3 === 1 ? 128 : 255) : (i * 29 + 5) & 0xff));
const webpRgba5x4Body = fromHex('5249464638000000574542505650384c2c0000002f04c00010cd6444ff4342906de3729623dd9f63075832e3d34130494397d72e5f6446c381e578ca8e2f7904');
const longNote = text('Blood pressure 120/80 mmHg, pulse 64. '.repeat(12));
const longNoteBody = deflateSync(longNote, { level: 6 });

const base = { recordKey: KEY_A, recordId: ID_A, sequenceKey: 'adk21937', kdf: VECTOR_KDF, kdfSalt: '5a5a5a5a000102030405060708090a0b', noncePrefix: 'a0a1a2a3a4a5a6', chunkSize: 64 };

export const POSITIVE_CASES: readonly PositiveCase[] = [
  { ...base, id: 'file-empty', description: 'Empty file: one empty final chunk (16-byte tag only); the paper key adk21937 gives 8 objects.', metadata: { kind: 'file', name: 'empty.txt', mime: 'text/plain', byteLength: 0 }, plaintext: new Uint8Array(0) },
  { ...base, id: 'file-text', description: 'A text file over several 64-byte chunks with a short last chunk.', metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length, createdAt: 1_764_000_000_000 }, plaintext: note },
  {
    ...base,
    id: 'file-exact-chunks-12-fragments',
    description: 'Body of exactly two full chunks (the last carries the last flag; no empty chunk follows), split into 12 fragments.',
    recordKey: KEY_B,
    recordId: ID_B,
    sequenceKey: 'Qw7#zR2!xKm9',
    noncePrefix: 'b0b1b2b3b4b5b6',
    metadata: { kind: 'file', name: 'scan.dcm', mime: 'application/dicom', byteLength: 128 },
    plaintext: counting(128),
  },
  { ...base, id: 'image-gray8', description: 'GRAY8 pixels, 4×3.', ...image('xray.png', 4, 3, 'GRAY8', counting(12)) },
  { ...base, id: 'image-rgb8', description: 'RGB8 pixels, 3×2.', ...image('photo.jpg', 3, 2, 'RGB8', counting(18)) },
  {
    ...base,
    id: 'image-rgba8-non-bmp-key',
    description: 'RGBA8 pixels, 2×2, with a sequence key holding characters outside the BMP (4-byte UTF-8 index characters) and é.',
    sequenceKey: 'é𝄞a😀b𐐷c1',
    ...image('wound.png', 2, 2, 'RGBA8', counting(16)),
  },
  { ...base, id: 'image-gray16', description: 'GRAY16 pixels (little-endian samples), 3×3.', ...image('ct.png', 3, 3, 'GRAY16', counting(18, 37, 1)) },
  { ...base, id: 'image-rgba16', description: 'RGBA16 pixels, 2×2.', ...image('scan16.png', 2, 2, 'RGBA16', counting(32, 11, 9)) },
  { ...base, id: 'image-multi-frame', description: 'GRAY8, 2×2, three frames one after another.', ...image('study.png', 2, 2, 'GRAY8', counting(12, 5, 2), 3) },
  {
    ...base,
    id: 'image-deflate-rgb8',
    description: 'RGB8 4×4 with bodyEncoding deflate-raw: the encrypted body is the raw DEFLATE of the 48 pixel bytes.',
    metadata: { kind: 'image', name: 'deflated.png', mime: 'image/png', byteLength: deflateSync(rgb4x4, { level: 6 }).length, image: { width: 4, height: 4, pixelFormat: 'RGB8' }, bodyEncoding: 'deflate-raw' },
    plaintext: deflateSync(rgb4x4, { level: 6 }),
  },
  {
    ...base,
    id: 'image-filtered-gray16-frames',
    description: 'GRAY16 5×3, two frames, bodyEncoding filtered-deflate-raw (§6.2): the 6 rows (frames stacked) use filter types 0, 1, 2, 3, 4, 0 in turn; the body is the raw DEFLATE of the 6 × 11 filtered bytes.',
    metadata: { kind: 'image', name: 'ct-frames.png', mime: 'image/png', byteLength: gray16FramesBody.length, image: { width: 5, height: 3, pixelFormat: 'GRAY16', frames: 2 }, bodyEncoding: 'filtered-deflate-raw' },
    plaintext: gray16FramesBody,
  },
  {
    ...base,
    id: 'image-filtered-rgba8',
    description: 'RGBA8 4×5, bodyEncoding filtered-deflate-raw with the writer\'s minimum-sum-of-absolute-differences choice per row (§6.2).',
    metadata: { kind: 'image', name: 'wound.png', mime: 'image/png', byteLength: rgba4x5Body.length, image: { width: 4, height: 5, pixelFormat: 'RGBA8' }, bodyEncoding: 'filtered-deflate-raw' },
    plaintext: rgba4x5Body,
  },
  {
    ...base,
    id: 'image-webp-gray8',
    description: 'GRAY8 6×4, bodyEncoding webp-lossless (§6.4): the body is a RIFF/WEBP file with one VP8L chunk of odd length (a zero padding byte follows); it decodes to (Y, Y, Y, 255) per pixel.',
    metadata: { kind: 'image', name: 'xray.png', mime: 'image/png', byteLength: webpGray6x4Body.length, image: { width: 6, height: 4, pixelFormat: 'GRAY8' }, bodyEncoding: 'webp-lossless' },
    plaintext: webpGray6x4Body,
  },
  {
    ...base,
    id: 'image-webp-rgba8',
    description: 'RGBA8 5×4, bodyEncoding webp-lossless (§6.4): fully transparent pixels keep their non-zero RGB (an "exact" writer), half-transparent ones their alpha.',
    metadata: { kind: 'image', name: 'wound.png', mime: 'image/png', byteLength: webpRgba5x4Body.length, image: { width: 5, height: 4, pixelFormat: 'RGBA8' }, bodyEncoding: 'webp-lossless' },
    plaintext: webpRgba5x4Body,
  },
  {
    ...base,
    id: 'file-deflate-text',
    description: 'A text file compressed (§6.3): bodyEncoding deflate-raw, contentLength the original length; the body is the raw DEFLATE of the file.',
    metadata: { kind: 'file', name: 'vitals.txt', mime: 'text/plain', byteLength: longNoteBody.length, bodyEncoding: 'deflate-raw', contentLength: longNote.length, createdAt: 1_764_000_000_000 },
    plaintext: longNoteBody,
  },
  {
    ...base,
    id: 'parity-file-text-p2',
    description: 'The text file of file-text with p = 2 parity objects (FORMAT.md §4.4, algorithm 01): 8 data objects and 2 parity objects; any 8 of the 10 open it.',
    noncePrefix: 'c0c1c2c3c4c5c6',
    parity: 2,
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length, createdAt: 1_764_000_000_000 },
    plaintext: note,
  },
];

/** Vectors made from a positive one by removing objects that the reader must still open (§9 step 10 with parity). */
export interface RebuildCase {
  readonly id: string;
  readonly description: string;
  readonly from: string;
  readonly spoil: (objects: Uint8Array[]) => Uint8Array[];
}

export const REBUILD_CASES: readonly RebuildCase[] = [
  {
    id: 'parity-two-data-objects-removed',
    description: "parity-file-text-p2 without data objects #2 and #7 (the fragments of 'd' and '3'), the rest given in reverse order: the reader re-creates both from the 6 other data objects and the 2 parity objects (§4.4, §9 step 10) and opens the record.",
    from: 'parity-file-text-p2',
    spoil: (o) => o.filter((_, i) => i !== 1 && i !== 6).reverse(),
  },
];

/** The pixels before DEFLATE, for checking the deflate vector's inflated body. */
export const DEFLATE_PIXELS = rgb4x4;

/** What each encoded vector's body decodes to (§6.2, §6.3): pixels or the original file. */
export const DECODED_CONTENT: Readonly<Record<string, Uint8Array>> = {
  'image-deflate-rgb8': rgb4x4,
  'image-filtered-gray16-frames': gray16FramesPixels,
  'image-filtered-rgba8': rgba4x5Pixels,
  'image-webp-gray8': webpGray6x4Pixels,
  'image-webp-rgba8': webpRgba5x4Pixels,
  'file-deflate-text': longNote,
};
