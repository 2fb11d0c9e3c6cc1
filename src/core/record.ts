import type { ByteSource } from './byte-queue.js';
import { concatBytes } from './bytes.js';
import { EhrVaultError, FragmentError } from './errors.js';
import { HEADER_LENGTH, openStream, plannedEnvelopeLength, sealStream, type SealOptions } from './envelope.js';
import { parseFragment, planMerge, sealFragmentFrames, type Fragment, type ParsedFragment } from './fragments.js';
import { deriveRecordKeys, generateRecordKey } from './keychain.js';
import type { RecordMetadata } from './metadata.js';
import { throwIfAborted, type LongOperationOptions } from './progress.js';
import { parseSequenceKey, type SequenceKey } from './sequence-key.js';
import { splitStream } from './split-stream.js';

export interface ProtectOptions extends SealOptions, LongOperationOptions {
  /** A fresh random key is drawn when absent (the normal case). */
  readonly recordKey?: Uint8Array | undefined;
}

export interface ProtectedRecord {
  readonly recordKey: Uint8Array;
  readonly sequenceKey: SequenceKey;
  readonly fragments: Fragment[];
  readonly envelopeLength: number;
}

/**
 * The paper's two layers in memory: encrypt (AES-128-GCM STREAM), then split by the sequence key.
 * Workers use the same pieces (sealStream → splitStream) to stream large files into Blobs instead.
 */
export async function protectRecord(body: ByteSource, metadata: RecordMetadata, sequenceKey: string | SequenceKey, options: ProtectOptions = {}): Promise<ProtectedRecord> {
  const key = parseSequenceKey(sequenceKey);
  const recordKey = options.recordKey ?? generateRecordKey(options.randomBytes);
  const keys = await deriveRecordKeys(recordKey);
  // The envelope's length is fixed by the metadata alone, so fragments can be planned before encrypting.
  const envelopeLength = plannedEnvelopeLength(metadata, options.chunkSize);
  const frames = await sealFragmentFrames(keys, key, envelopeLength);
  const parts: Uint8Array[][] = frames.map(() => []);
  for await (const piece of splitStream(sealStream(keys, metadata, body, options), frames)) {
    parts[piece.position]!.push(piece.bytes);
  }
  throwIfAborted(options.signal);
  return {
    recordKey,
    sequenceKey: key,
    fragments: frames.map((f, i) => ({ indexChar: f.indexChar, bytes: concatBytes(parts[i]!) })),
    envelopeLength,
  };
}

export interface OpenedRecord {
  readonly metadata: RecordMetadata;
  readonly body: Uint8Array;
}

/**
 * Merges fragments (any order), decrypts, and returns the body only if every byte checked out: on any
 * failure nothing is returned and the partial buffer is wiped.
 */
export async function openRecord(fragments: readonly Uint8Array[], sequenceKey: string | SequenceKey, recordKey: Uint8Array, options: LongOperationOptions = {}): Promise<OpenedRecord> {
  const key = parseSequenceKey(sequenceKey);
  const keys = await deriveRecordKeys(recordKey);
  const order = await planMerge(keys, key, fragments.map((bytes, i) => parseFragment(bytes, i)));
  const payloads = order.map((f) => fragments[f.source]!.subarray(f.payloadOffset, f.payloadOffset + f.payloadLength));
  let body: Uint8Array | undefined;
  try {
    // Checked before allocating: an authentic description must not make us allocate more than we hold.
    const expectedLength = order.reduce((sum, f) => sum + f.payloadLength, 0);
    const opened = await openStream(keys, payloads, { ...options, expectedLength });
    body = new Uint8Array(opened.metadata.byteLength);
    let offset = 0;
    for await (const chunk of opened.chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    throwIfAborted(options.signal);
    return { metadata: opened.metadata, body };
  } catch (error) {
    body?.fill(0);
    throw blameFragments(error, order);
  }
}

/**
 * After planMerge every fragment header is authentic and the record key is right, so any later
 * failure is damage inside a payload: name the fragments whose bytes it covers.
 */
export function blameFragments(error: unknown, order: readonly ParsedFragment[]): unknown {
  if (!(error instanceof EhrVaultError)) return error;
  // METADATA_INVALID is not blamed: it is raised only after the metadata authenticated, so it means a
  // record from a newer or faulty writer, not damage.
  const blamed: readonly string[] = ['ENVELOPE_TAMPERED', 'WRONG_RECORD_KEY', 'ENVELOPE_MALFORMED', 'ENVELOPE_UNSUPPORTED'];
  if (!blamed.includes(error.code)) return error;
  // Errors without a location concern the header (commitment, magic, version): its 40 bytes may span
  // more than one fragment when fragments are small.
  const start = typeof error.details.offset === 'number' ? error.details.offset : 0;
  const end = start + (typeof error.details.length === 'number' ? error.details.length : HEADER_LENGTH);
  const hit: string[] = [];
  let at = 0;
  for (const f of order) {
    if (at < end && at + f.payloadLength > start) hit.push(f.indexChar);
    at += f.payloadLength;
  }
  const named = hit.length > 0 ? hit : [order[0]!.indexChar];
  const fragmentError = new FragmentError(
    'FRAGMENT_TAMPERED',
    `Fragment ${named.map((c) => `'${c}'`).join(' or ')} was altered or damaged.`,
    'Download the damaged fragment again.',
    { indexChars: named, envelopeError: error.code },
  );
  (fragmentError as { cause?: unknown }).cause = error;
  return fragmentError;
}
