import { bodySegments, checkEnvelopeLength, EnvelopeOpener, HEADER_LENGTH, openStream } from '../core/envelope.js';
import { EhrVaultError, EnvelopeError } from '../core/errors.js';
import { FRAGMENT_HEAD_MAX, FRAGMENT_TAIL_MAX, parseFragmentFrame, planMerge, type ParsedFragment } from '../core/fragments.js';
import { deriveRecordKeys } from '../core/keychain.js';
import { pixelByteLength } from '../core/metadata.js';
import { throwIfAborted } from '../core/progress.js';
import { blameFragments } from '../core/record.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import { inflateRaw } from './deflate.js';
import type { OpenRequest, OpenResult, ProgressCallback } from './engine-api.js';
import { pixelBitmap } from './noise-preview.js';
import { displayRgba } from './decoders/display-pixels.js';
import { encodePng } from './decoders/png-encode.js';
import { isDicom, mayBeRawDicom, RAW_DICOM_PROBE_BYTES } from './dicom/dicom-dataset.js';
import { chooseSink, finishSink } from './output-sink.js';
import { readSlices } from './read-slices.js';
import { chunksPerSegment, prestartPool, runSegments } from './segment-pool.js';

async function readFrame(blob: Blob, source: number): Promise<ParsedFragment> {
  const [head, tail] = await Promise.all([
    blob.slice(0, FRAGMENT_HEAD_MAX).arrayBuffer(),
    blob.slice(Math.max(0, blob.size - FRAGMENT_TAIL_MAX)).arrayBuffer(),
  ]);
  return parseFragmentFrame(new Uint8Array(head), new Uint8Array(tail), blob.size, source);
}

async function readExactly(blob: Blob, start: number, length: number, what: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await blob.slice(start, start + length).arrayBuffer());
  if (bytes.length < length) throw new EnvelopeError('ENVELOPE_TRUNCATED', `The record ends too early (in ${what}).`, 'A fragment is incomplete: download the fragments again.', { what });
  return bytes;
}

/**
 * Merges fragments (any order) and decrypts them. Only the first 50 and last 4 bytes of each fragment
 * are read to check it; payloads are then read by range. Nothing is returned unless every chunk
 * authenticated.
 */
export async function openInWorker(request: OpenRequest, onProgress: ProgressCallback = () => {}, signal?: AbortSignal): Promise<OpenResult> {
  const key = parseSequenceKey(request.sequenceKey);
  const keys = await deriveRecordKeys(request.recordKey);
  const blobs = request.fragments;
  const total = blobs.reduce((sum, b) => sum + b.size, 0);
  onProgress({ phase: 'verify', done: 0, total: blobs.length });
  const order = await planMerge(keys, key, await Promise.all(blobs.map((b, i) => readFrame(b, i))));
  onProgress({ phase: 'verify', done: blobs.length, total: blobs.length });
  throwIfAborted(signal);

  // The envelope is the payloads in chain order: composing Blob slices copies nothing.
  const envelope = new Blob(order.map((f) => blobs[f.source]!.slice(f.payloadOffset, f.payloadOffset + f.payloadLength)));
  try {
    const opener = await EnvelopeOpener.create(keys, await readExactly(envelope, 0, HEADER_LENGTH, 'the header'));
    const metadata = await opener.openMetadata(await readExactly(envelope, HEADER_LENGTH, opener.header.metadataLength, 'the record description'));
    checkEnvelopeLength(opener, envelope.size);
    if (metadata.kind === 'file') {
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
        signal,
        onProgress: (done, t) => onProgress({ phase: 'decrypt', done, total: t }),
      });
      const blob = await finishSink(sink, parts, metadata.mime);
      // Only the head is read: enough for the "DICM" marker, or to parse a marker-less DICOM file.
      const head = new Uint8Array(await blob.slice(0, mayBeRawDicom(metadata.name) ? RAW_DICOM_PROBE_BYTES : 132).arrayBuffer());
      return { kind: 'file', metadata, blob, dicom: isDicom(head, metadata.name), ...(sink.kind === 'disk' ? { scratch: sink.file } : {}) };
    }
    // Pixels are wanted in memory anyway: streamed through one opener.
    const opened = await openStream(keys, readSlices(envelope, undefined, signal), { signal, expectedLength: envelope.size, onProgress: (p) => onProgress({ phase: 'decrypt', done: p.done, total: p.total || total }) });
    const body = new Uint8Array(metadata.byteLength);
    let at = 0;
    for await (const chunk of opened.chunks) {
      body.set(chunk, at);
      at += chunk.length;
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
    if (metadata.bodyEncoding !== 'deflate-raw') return await image(body);
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
    throw blameFragments(error, order);
  }
}
