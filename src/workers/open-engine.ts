import { openStream } from '../core/envelope.js';
import { EhrVaultError, EnvelopeError } from '../core/errors.js';
import { FRAGMENT_HEAD_MAX, FRAGMENT_TAIL_MAX, parseFragmentFrame, planMerge, type ParsedFragment } from '../core/fragments.js';
import { deriveRecordKeys } from '../core/keychain.js';
import { pixelByteLength } from '../core/metadata.js';
import { throwIfAborted } from '../core/progress.js';
import { blameFragments } from '../core/record.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import { BlobBuilder } from './blob-builder.js';
import { inflateRaw } from './deflate.js';
import type { OpenRequest, OpenResult, ProgressCallback } from './engine-api.js';
import { pixelBitmap } from './noise-preview.js';
import { displayRgba } from './decoders/display-pixels.js';
import { encodePng } from './decoders/png-encode.js';
import { isDicom, mayBeRawDicom, RAW_DICOM_PROBE_BYTES } from './dicom/dicom-dataset.js';
import { readSlices } from './read-slices.js';

async function readFrame(blob: Blob, source: number): Promise<ParsedFragment> {
  const [head, tail] = await Promise.all([
    blob.slice(0, FRAGMENT_HEAD_MAX).arrayBuffer(),
    blob.slice(Math.max(0, blob.size - FRAGMENT_TAIL_MAX)).arrayBuffer(),
  ]);
  return parseFragmentFrame(new Uint8Array(head), new Uint8Array(tail), blob.size, source);
}

/**
 * Merges fragments (any order) and decrypts them chunk by chunk. Only the first 50 and last 4 bytes of
 * each fragment are read to check it; payloads are then streamed in slices. Nothing is returned unless
 * every chunk authenticated.
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

  async function* payloads(): AsyncGenerator<Uint8Array> {
    for (const f of order) yield* readSlices(blobs[f.source]!, undefined, signal, f.payloadOffset, f.payloadOffset + f.payloadLength);
  }
  try {
    const expectedLength = order.reduce((sum, f) => sum + f.payloadLength, 0);
    const opened = await openStream(keys, payloads(), { signal, expectedLength, onProgress: (p) => onProgress({ phase: 'decrypt', done: p.done, total: p.total || total }) });
    const { metadata } = opened;
    if (metadata.kind === 'file') {
      const builder = new BlobBuilder();
      for await (const chunk of opened.chunks) builder.push(chunk);
      const blob = builder.finish(metadata.mime);
      // Only the head is read: enough for the "DICM" marker, or to parse a marker-less DICOM file.
      const head = new Uint8Array(await blob.slice(0, mayBeRawDicom(metadata.name) ? RAW_DICOM_PROBE_BYTES : 132).arrayBuffer());
      return { kind: 'file', metadata, blob, dicom: isDicom(head, metadata.name) };
    }
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
