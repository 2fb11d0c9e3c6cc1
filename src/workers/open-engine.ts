import { stretchWithBatch } from '../core/batch-kdf.js';
import { bodySegments, checkEnvelopeLength, EnvelopeOpener, HEADER_LENGTH, openStream } from '../core/envelope.js';
import { EhrVaultError, EnvelopeError } from '../core/errors.js';
import { pixelByteLength } from '../core/metadata.js';
import { wrapEnvelopeRange, type PayloadPlacement } from '../core/object-wrap.js';
import { planOpen, plansWithoutDamage, recordIdBytes, type ObjectAppender, type OpenPlan } from '../core/open-objects.js';
import { throwIfAborted } from '../core/progress.js';
import { blameFragments, checkSplit } from '../core/record.js';
import { parseSequenceKey, type SequenceKey } from '../core/sequence-key.js';
import { BlobBuilder } from './blob-builder.js';
import { inflateRaw } from './deflate.js';
import { decodePixelBody } from './pixel-body.js';
import type { OpenRequest, OpenResult, ProgressCallback } from './engine-api.js';
import { pixelBitmap } from './noise-preview.js';
import { displayRgba } from './decoders/display-pixels.js';
import { encodePng } from './decoders/png-encode.js';
import { isDicom, mayBeRawDicom, RAW_DICOM_PROBE_BYTES } from './dicom/dicom-dataset.js';
import { chooseSink, finishSink } from './output-sink.js';
import { readSlices } from './read-slices.js';
import { chunksPerSegment, prestartPool, runSegments } from './segment-pool.js';
import { engineStep } from './engine-step.js';

async function readExactly(blob: Blob, start: number, length: number, what: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await blob.slice(start, start + length).arrayBuffer());
  if (bytes.length < length) throw new EnvelopeError('ENVELOPE_TRUNCATED', `The record ends too early (in ${what}).`, 'A fragment is incomplete: download the record again.', { what });
  return bytes;
}

/** Unseals the sealed envelope as it is read, slice by slice, for the in-memory (pixel) path. */
async function* unsealSlices(wrap: CryptoKey, placements: readonly PayloadPlacement[], slices: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for await (const slice of slices) {
    yield await wrapEnvelopeRange(wrap, placements, offset, slice);
    offset += slice.length;
  }
}

/**
 * Unseals, merges and decrypts a record's objects (any order; FORMAT.md §9). Only each object's head,
 * frame front and frame tail are read to check it; payloads are then read by range. Nothing is returned
 * unless every chunk authenticated.
 */
export async function openInWorker(request: OpenRequest, onProgress: ProgressCallback = () => {}, signal?: AbortSignal): Promise<OpenResult> {
  const key = parseSequenceKey(request.sequenceKey);
  // Objects re-created from parity (FORMAT.md §4.4, §9 steps 10, 11, 15) are appended to this list.
  const blobs = [...request.objects];
  const total = request.objects.reduce((sum, b) => sum + b.size, 0);
  const read = async (source: number, start: number, end: number) => new Uint8Array(await blobs[source]!.slice(start, end).arrayBuffer());
  const append = (): ObjectAppender => {
    const builder = new BlobBuilder();
    return { push: (bytes) => builder.push(bytes), finish: () => blobs.push(builder.finish()) - 1 };
  };
  onProgress({ phase: 'unlock', done: 0, total: 1 });
  engineStep('open: heads, Argon2id, frames');
  // Heads, Argon2id of the sequence key (the one slow step, in this Worker), frames and the chain;
  // missing data objects are re-created from parity objects before the frames are checked.
  const plan = await planOpen(request.recordKey, recordIdBytes(request.recordId), key, request.objects.map((b) => b.size), read, request.batch ? stretchWithBatch(request.batch) : undefined, { append });
  onProgress({ phase: 'unlock', done: 1, total: 1 });
  throwIfAborted(signal);
  engineStep('open: decrypting');
  try {
    return await openPlanned(request, plan, key, blobs, total, onProgress, signal);
  } catch (error) {
    // §9 step 15 with parity: a payload damaged inside one object is re-created from the others.
    for await (const alternative of plansWithoutDamage(plan, key, error, read)) {
      throwIfAborted(signal);
      try {
        return await openPlanned(request, alternative, key, blobs, total, onProgress, signal);
      } catch (retryError) {
        if (retryError instanceof EhrVaultError && retryError.code === 'ABORTED') throw retryError;
      }
    }
    throw error;
  }
}

async function openPlanned(request: OpenRequest, plan: OpenPlan, key: SequenceKey, blobs: readonly Blob[], total: number, onProgress: ProgressCallback, signal: AbortSignal | undefined): Promise<OpenResult> {
  const { keys } = plan;
  const placements: PayloadPlacement[] = plan.fragments.map((f) => ({ payloadStart: f.payloadStart, payloadEnd: f.payloadEnd, prefixLength: f.prefixLength }));
  const unseal = (offset: number, bytes: Uint8Array) => wrapEnvelopeRange(keys.wrap, placements, offset, bytes);

  // The sealed envelope is the payloads in chain order: composing Blob slices copies nothing.
  const envelope = new Blob(plan.fragments.map((f) => blobs[f.source]!.slice(f.objectOffset, f.objectOffset + (f.payloadEnd - f.payloadStart))));
  try {
    const opener = await EnvelopeOpener.create(keys, await unseal(0, await readExactly(envelope, 0, HEADER_LENGTH, 'the header')));
    const metadata = await opener.openMetadata(await unseal(HEADER_LENGTH, await readExactly(envelope, HEADER_LENGTH, opener.header.metadataLength, 'the record description')));
    checkEnvelopeLength(opener, envelope.size);
    checkSplit(plan);
    if (metadata.kind === 'file' && (metadata.bodyEncoding ?? 'identity') === 'identity') {
      prestartPool(metadata.byteLength, opener.header.chunkSize);
      // A file is opened segment by segment over a pool of workers, each reading, decrypting and writing
      // its own range (segment-pool.ts); nothing is returned unless every segment authenticated.
      const sink = await chooseSink(request, metadata.byteLength, 0);
      const parts = await runSegments({
        direction: 'open',
        source: envelope,
        encryption: keys.encryption,
        context: { headerBytes: opener.header.bytes, byteLength: metadata.byteLength },
        segments: bodySegments(opener.header, metadata.byteLength, chunksPerSegment(opener.chunkCount)),
        sink,
        wrap: { key: keys.wrap, placements },
        signal,
        onProgress: (done, t) => onProgress({ phase: 'decrypt', done, total: t }),
      });
      const blob = await finishSink(sink, parts, metadata.mime);
      // Only the head is read: enough for the "DICM" marker, or to parse a marker-less DICOM file.
      const head = new Uint8Array(await blob.slice(0, mayBeRawDicom(metadata.name) ? RAW_DICOM_PROBE_BYTES : 132).arrayBuffer());
      return { kind: 'file', metadata, blob, dicom: isDicom(head, metadata.name), ...(sink.kind === 'disk' ? { scratch: sink.file } : {}) };
    }
    // Pixels are wanted in memory anyway: streamed through one opener.
    const opened = await openStream(keys, unsealSlices(keys.wrap, placements, readSlices(envelope, undefined, signal)), { signal, expectedLength: envelope.size, onProgress: (p) => onProgress({ phase: 'decrypt', done: p.done, total: p.total || total }) });
    const body = new Uint8Array(metadata.byteLength);
    let at = 0;
    for await (const chunk of opened.chunks) {
      body.set(chunk, at);
      at += chunk.length;
    }
    if (metadata.kind === 'file') {
      // A compressed file (§6.3): at most one segment, inflated to exactly its content length.
      const contentLength = metadata.contentLength ?? 0;
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await inflateRaw(body, contentLength, (done, t) => onProgress({ phase: 'decompress', done, total: t }), signal);
      } catch (cause) {
        if (cause instanceof EhrVaultError) throw cause;
        throw new EnvelopeError('METADATA_INVALID', 'The file could not be decompressed.', 'The record was written by a faulty program.', { cause: String(cause) });
      }
      if (bytes.length !== contentLength) throw new EnvelopeError('METADATA_INVALID', 'The file has the wrong size after decompression.', 'The record was written by a faulty program.', { expected: contentLength, actual: bytes.length });
      const head = bytes.subarray(0, mayBeRawDicom(metadata.name) ? RAW_DICOM_PROBE_BYTES : 132);
      return { kind: 'file', metadata, blob: new Blob([bytes], { type: metadata.mime }), dicom: isDicom(head, metadata.name) };
    }
    const expected = pixelByteLength(metadata.image!);
    const info = metadata.image!;
    const image = async (pixels: Uint8Array<ArrayBuffer>): Promise<OpenResult> => {
      const png = request.png ? await encodePng(pixels, info, { onProgress: (done, t) => onProgress({ phase: 'encode', done, total: t }), signal }) : undefined;
      return {
        kind: 'image',
        metadata,
        pixels,
        ...(request.display ? { bitmap: pixelBitmap(info.pixelFormat === 'RGBA8' && (info.frames ?? 1) === 1 ? pixels : displayRgba(pixels, info), info.width, info.height) } : {}),
        ...(png ? { png } : {}),
      };
    };
    const encoding = metadata.bodyEncoding ?? 'identity';
    if (encoding === 'identity') return await image(body);
    if (encoding === 'filtered-deflate-raw' || encoding === 'webp-lossless') return await image(await decodePixelBody(body, info, encoding, (done, t) => onProgress({ phase: 'decompress', done, total: t }), signal));
    let pixels: Uint8Array<ArrayBuffer>;
    try {
      pixels = await inflateRaw(body, expected, (done, t) => onProgress({ phase: 'decompress', done, total: t }), signal);
    } catch (cause) {
      if (cause instanceof EhrVaultError) throw cause;
      throw new EnvelopeError('METADATA_INVALID', 'The image data could not be decompressed.', 'The record was written by a faulty program; it cannot be shown as an image.', { cause: String(cause) });
    }
    if (pixels.length !== expected) throw new EnvelopeError('METADATA_INVALID', 'The image data has the wrong size.', 'The record was written by a faulty program; it cannot be shown as an image.', { expected, actual: pixels.length });
    return await image(pixels);
  } catch (error) {
    throw blameFragments(error, key, plan.fragments, plan.parity?.inputCount);
  }
}
