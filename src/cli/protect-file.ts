import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { deriveLocatorKeys } from '../core/keychain.js';
import { forgetBatch, stretchForBatch, type BatchKdf } from '../core/batch-kdf.js';
import type { KdfParams } from '../core/kdf.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import type { RecordMetadata } from '../core/metadata.js';
import { fragmentObjectName } from '../core/object-names.js';
import { filterImage } from '../core/row-filters.js';
import { inspect, MAX_DECODE_PIXELS, type OriginalBytesReason } from '../workers/decode-image.js';
import { decodePngPixels } from '../workers/decoders/png-decode.js';
import type { SniffedType } from '../workers/decoders/sniff.js';
import { ioError } from './errors.js';
import { protectInPlace } from './seal-in-place.js';

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
  /** Raw DEFLATE of image pixels, as the app does by default. */
  readonly compress?: boolean | undefined;
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

/**
 * Decides what a file becomes with the app's rules (FORMAT.md §13, `inspect` of the app's engine), limited to
 * what Node decodes exactly: PNG (fast-png, the app's own decoder) becomes pixels; JPEG, WebP, GIF, BMP and
 * AVIF, which the app decodes with the browser's decoder, are kept as their original bytes here
 * (`not-decodable-here`), as are DICOM, TIFF, animations and everything else.
 */
export function recordFor(bytes: Uint8Array, name: string, compress: boolean, createdAt: number): { metadata: RecordMetadata; body: Uint8Array; storedAs: ProtectedFile['storedAs']; type: SniffedType; reason?: OriginalBytesReason } {
  const guessed = MIME_BY_EXTENSION[extname(name).toLowerCase()] ?? '';
  const inspection = inspect(bytes, name, guessed);
  if (inspection.storeAs === 'pixels' && inspection.type === 'png' && pngSize(bytes) <= MAX_DECODE_PIXELS) {
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
  const metadata: RecordMetadata = { kind: 'file', name, mime: inspection.type === 'unknown' ? guessed : inspection.mime, byteLength: bytes.length, createdAt };
  return { metadata, body: bytes, storedAs: 'original-bytes', type: inspection.type, ...(reason ? { reason } : {}) };
}

/** One input file → its sealed objects, names and digests (the byte work a protect worker does). */
export async function protectFile(task: ProtectTask): Promise<ProtectedFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(task.path));
  } catch (error) {
    throw ioError('INPUT_UNREADABLE', task.path, error);
  }
  const { metadata, body, storedAs, type, reason } = recordFor(bytes, task.name, task.compress ?? true, Date.now());
  // Objects sealed in place: the body and the objects are in memory, never the envelope besides.
  const own = task.batch ? undefined : await stretchForBatch(parseSequenceKey(task.sequenceKey), task.kdf);
  const record = await protectInPlace(body, metadata, task.sequenceKey, (task.batch ?? own)!).finally(() => forgetBatch(own));
  const locator = await deriveLocatorKeys(record.recordKey);
  const names = await Promise.all(record.objects.map((_, j) => fragmentObjectName(locator, record.recordId, j)));
  const sha256 = record.objects.map((o) => (task.digests === false ? '' : createHash('sha256').update(o).digest('base64')));
  return { recordId: record.recordId, recordKey: record.recordKey, names, objects: record.objects, sha256, storedAs, type, ...(reason ? { reason } : {}), mime: metadata.mime, inputBytes: bytes.length, kdfRuns: own ? 1 : 0 };
}
