import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { forgetBatch, stretchForBatch, type BatchKdf } from '../core/batch-kdf.js';
import type { KdfParams } from '../core/kdf.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import type { RecordMetadata } from '../core/metadata.js';
import { DEFAULT_PARITY } from '../core/parity.js';
import { filterImage } from '../core/row-filters.js';
import { inspect, MAX_DECODE_PIXELS, type OriginalBytesReason } from '../workers/decode-image.js';
import { decodePngPixels } from '../workers/decoders/png-decode.js';
import { PIXEL_TYPES, sniffType, type SniffedType } from '../workers/decoders/sniff.js';
import { COMPRESSION_SAMPLE_BYTES, FILE_COMPRESS_MAX_BYTES, worthCompressing } from '../workers/file-compression.js';
import { ioError } from './errors.js';
import { cliStretch } from './native-argon2.js';
import type { ObjectBuffers } from './object-buffers.js';
import { bytesSource, fastSeal, SEGMENT_BYTES, type BodySource } from './fast-seal.js';

export interface ProtectTask {
  readonly path: string;
  /** Stored in the record's description (shown when it is opened). */
  readonly name: string;
  readonly sequenceKey: string;
  readonly kdf: KdfParams;
  /**
   * The run's X and salt (batch-cache.ts): no Argon2id here. Absent (a key per record, --generate-keys):
   * this record is a batch of its own and its Argon2id runs here, in the worker.
   */
  readonly batch?: BatchKdf | undefined;
  /** Compute each object's SHA-256 (the presign service needs it; a folder store does not). Default true. */
  readonly digests?: boolean | undefined;
  /** Raw DEFLATE of image pixels and of small files that compress (FORMAT.md §6.2, §6.3), as the app does by default. */
  readonly compress?: boolean | undefined;
  /** Reed–Solomon parity objects (FORMAT.md §4.4); default 2, as the app. */
  readonly parity?: number | undefined;
}

export interface ProtectedFile {
  readonly recordId: string;
  readonly recordKey: Uint8Array;
  /** Object names in slot order, and the objects and their base64 SHA-256 (or '' without `digests`) in the same order. */
  readonly names: string[];
  readonly objects: Uint8Array[];
  readonly sha256: string[];
  readonly storedAs: 'pixels' | 'original-bytes';
  readonly type: SniffedType;
  readonly reason?: OriginalBytesReason | undefined;
  readonly mime: string;
  readonly inputBytes: number;
  /** Argon2id calls this task made (0 with a batch, 1 without). */
  readonly kdfRuns: number;
}

/** MIME types by extension for files whose bytes say nothing (the browser's guess, for the app). */
const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.rtf': 'application/rtf',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.zip': 'application/zip',
  '.dcm': 'application/dicom',
  '.hl7': 'text/plain',
};

function pngSize(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes.length >= 24 ? view.getUint32(16) * view.getUint32(20) : 0;
}

/** Bytes read to decide what a file too large to compress is, when its type is not an image (sniff, DICOM probe). */
const PROBE_BYTES = 1024 * 1024;

/** zlib level for a whole file that passed the sample (1: half the time of the default for ~1 % more bytes). */
const WHOLE_FILE_LEVEL = 1;

/** Files up to this size are deflated whole without the 256 KiB sample (FORMAT.md §6.3). */
const WHOLE_WITHOUT_SAMPLE_BYTES = 1024 * 1024;

/** The prefilter of compressFile: 16 KiB that deflate to more than 99 % of their size. */
const PREFILTER_BYTES = 16 * 1024;
const PREFILTER_RATIO = 0.99;

/**
 * The app's rule for files (FORMAT.md §6.3, workers/file-compression.ts): a file of at most 16 MiB whose first
 * 256 KiB deflate to at most 95 % is deflated whole, and kept so if the whole still does; otherwise the
 * original bytes. Incompressible data (random bodies, JPEG inside DICOM, ZIP) costs only the sample.
 * The sample is deflated at zlib's default level, as the browser's CompressionStream('deflate-raw') does, so
 * the decision is the app's; the whole file at level 1: on a noisy 16-bit CT series that is 11 against 23 ms
 * per MiB for 0.502 against 0.495 of the size (bench:cli), and DEFLATE is then most of a run's CPU.
 */
export function compressFile(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length === 0 || bytes.length > FILE_COMPRESS_MAX_BYTES) return undefined;
  // Most of an archive is incompressible (JPEG inside DICOM, random-looking encrypted or packed data): its
  // first 16 KiB already fail by far, at 1/40 of the 256 KiB sample's cost (6 ms per file, 0.4 ms per MiB of
  // a 16 MiB scan). Only that clear case is decided early (FORMAT.md §6.3 allows it).
  if (bytes.length > PREFILTER_BYTES) {
    const head = bytes.subarray(0, PREFILTER_BYTES);
    if (deflateRawSync(head).length > head.length * PREFILTER_RATIO) return undefined;
  }
  // A small file (a 512 KiB CT slice, most of a DICOM series) is deflated whole at once: the sample at the
  // default level cost as much as the whole file at level 1 (≈ 5.5 ms each), and the whole decides anyway.
  if (bytes.length <= WHOLE_WITHOUT_SAMPLE_BYTES) {
    const whole = deflateRawSync(bytes, { level: WHOLE_FILE_LEVEL });
    return worthCompressing(bytes.length, whole.length) ? new Uint8Array(whole.buffer, whole.byteOffset, whole.length) : undefined;
  }
  const sample = bytes.subarray(0, COMPRESSION_SAMPLE_BYTES);
  const sampled = deflateRawSync(sample);
  if (!worthCompressing(sample.length, sampled.length)) return undefined;
  const whole = deflateRawSync(bytes, { level: WHOLE_FILE_LEVEL });
  return worthCompressing(bytes.length, whole.length) ? new Uint8Array(whole.buffer, whole.byteOffset, whole.length) : undefined;
}

/** What a file becomes: the record's metadata, its body (in memory, or undefined: read from the file), and why. */
export interface RecordPlan {
  readonly metadata: RecordMetadata;
  readonly body: Uint8Array | undefined;
  readonly storedAs: ProtectedFile['storedAs'];
  readonly type: SniffedType;
  readonly reason?: OriginalBytesReason;
}

/**
 * Decides what a file becomes with the app's rules (FORMAT.md §13, `inspect` of the app's engine), limited to
 * what Node decodes exactly: PNG (fast-png, the app's own decoder) becomes pixels; JPEG, WebP, GIF, BMP and
 * AVIF, which the app decodes with the browser's decoder, are kept as their original bytes here
 * (`not-decodable-here`), as are DICOM, TIFF, animations and everything else. `bytes` is the whole file, or
 * only its first bytes (`size` longer) for a file that is not an image and too large to compress: its body
 * is then read from the file while it is sealed.
 */
export function recordFor(bytes: Uint8Array, name: string, compress: boolean, createdAt: number, size = bytes.length): RecordPlan {
  const guessed = MIME_BY_EXTENSION[extname(name).toLowerCase()] ?? '';
  const whole = size === bytes.length;
  const inspection = inspect(bytes, name, guessed);
  if (whole && inspection.storeAs === 'pixels' && inspection.type === 'png' && pngSize(bytes) <= MAX_DECODE_PIXELS) {
    const image = decodePngPixels(bytes);
    // The app's pixel codec (FORMAT.md §6.2): PNG row filters, then raw DEFLATE.
    const body = compress ? new Uint8Array(deflateRawSync(filterImage(image.pixels, image))) : image.pixels;
    const metadata: RecordMetadata = {
      kind: 'image',
      name,
      mime: inspection.mime,
      byteLength: body.length,
      image: { width: image.width, height: image.height, pixelFormat: image.pixelFormat },
      ...(compress ? { bodyEncoding: 'filtered-deflate-raw' as const } : {}),
      createdAt,
    };
    return { metadata, body, storedAs: 'pixels', type: 'png' };
  }
  const reason: OriginalBytesReason | undefined = inspection.storeAs === 'pixels' ? (inspection.type === 'png' ? 'too-large' : 'not-decodable-here') : inspection.reason;
  const mime = inspection.type === 'unknown' ? guessed : inspection.mime;
  const compressed = compress && whole ? compressFile(bytes) : undefined;
  const metadata: RecordMetadata = compressed
    ? { kind: 'file', name, mime, byteLength: compressed.length, bodyEncoding: 'deflate-raw', contentLength: size, createdAt }
    : { kind: 'file', name, mime, byteLength: size, createdAt };
  return { metadata, body: compressed ?? (whole ? bytes : undefined), storedAs: 'original-bytes', type: inspection.type, ...(reason ? { reason } : {}) };
}

/**
 * Reads exactly `into.length` bytes at `position`. Synchronously: a protect worker has nothing else to do
 * meanwhile, and four asynchronous calls per file (open, stat, read, close through the libuv pool) cost
 * ≈ 0.5 ms of a 512 KiB slice's ≈ 4 ms (bench:cli); in the main thread (--jobs 0) a read is a few ms at most.
 */
function readAt(fd: number, path: string, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, into, done, into.length - done, position + done);
    } catch (error) {
      throw ioError('INPUT_UNREADABLE', path, error);
    }
    if (bytesRead === 0) throw ioError('INPUT_UNREADABLE', path, new Error('the file became shorter while it was read'));
    done += bytesRead;
  }
}

/** Reads a large file's body a segment at a time into one reused buffer: memory is a segment, not the file. */
function fileSource(fd: number, path: string): BodySource {
  const buffer = new Uint8Array(SEGMENT_BYTES);
  return async (start, end) => {
    const into = end - start <= buffer.length ? buffer.subarray(0, end - start) : new Uint8Array(end - start);
    readAt(fd, path, into, start);
    return into;
  };
}

/** Bytes that are read into before anyone reads them: no zero-fill pass. */
function uninitialisedBytes(length: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

/**
 * One read buffer kept between records (up to 16 MiB): a fresh one per record cost a zero fill, its page
 * faults and, counted as external memory, a major GC every record or two (bench:cli, perf). Leased, so
 * records protected at once in one thread (jobs 0) never share it.
 */
let spareReadBuffer: Uint8Array | undefined;
function takeReadBuffer(length: number): Uint8Array {
  const spare = spareReadBuffer;
  spareReadBuffer = undefined;
  if (spare && spare.length >= length) return spare;
  return uninitialisedBytes(Math.max(length, spare?.length ?? 0));
}
function giveBackReadBuffer(buffer: Uint8Array): void {
  if (buffer.length <= FILE_COMPRESS_MAX_BYTES && (!spareReadBuffer || spareReadBuffer.length < buffer.length)) spareReadBuffer = buffer;
}

/** One input file → its sealed objects, names and digests (the byte work a protect worker does). */
export async function protectFile(task: ProtectTask, buffers?: ObjectBuffers): Promise<ProtectedFile> {
  let fd: number;
  try {
    fd = openSync(task.path, 'r');
  } catch (error) {
    throw ioError('INPUT_UNREADABLE', task.path, error);
  }
  let own: BatchKdf | undefined;
  let buffer: Uint8Array | undefined;
  try {
    own = task.batch ? undefined : await stretchForBatch(parseSequenceKey(task.sequenceKey), task.kdf, { stretch: await cliStretch() });
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (error) {
      throw ioError('INPUT_UNREADABLE', task.path, error);
    }
    // A file that may become pixels or be compressed is read whole; any other is sniffed from its first bytes
    // and streamed, so a 2 GiB scan never sits in memory besides its objects.
    buffer = takeReadBuffer(size <= FILE_COMPRESS_MAX_BYTES ? size : PROBE_BYTES);
    let bytes = buffer.subarray(0, Math.min(size, size <= FILE_COMPRESS_MAX_BYTES ? size : PROBE_BYTES));
    readAt(fd, task.path, bytes, 0);
    if (size > bytes.length && PIXEL_TYPES.includes(sniffType(bytes))) {
      const whole = uninitialisedBytes(size);
      whole.set(bytes, 0);
      readAt(fd, task.path, whole.subarray(bytes.length), bytes.length);
      bytes = whole;
    }
    const plan = recordFor(bytes, task.name, task.compress ?? true, Date.now(), size);
    const source = plan.body ? bytesSource(plan.body) : fileSource(fd, task.path);
    const record = await fastSeal(plan.metadata, task.sequenceKey, (task.batch ?? own)!, source, {
      parity: task.parity ?? DEFAULT_PARITY,
      digests: task.digests !== false,
      ...(buffers ? { allocate: (length: number, zeroed: boolean) => buffers.take(length, zeroed) } : {}),
    });
    const { names } = record;
    const { storedAs, type, reason, metadata } = plan;
    return { recordId: record.recordId, recordKey: record.recordKey, names, objects: record.objects, sha256: record.sha256, storedAs, type, ...(reason ? { reason } : {}), mime: metadata.mime, inputBytes: size, kdfRuns: own ? 1 : 0 };
  } finally {
    forgetBatch(own);
    if (buffer) giveBackReadBuffer(buffer);
    try {
      closeSync(fd);
    } catch {
      /* closing a file only read from cannot lose data */
    }
  }
}
