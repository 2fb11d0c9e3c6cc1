import { sealStream } from '../core/envelope.js';
import { plannedEnvelopeLength } from '../core/envelope.js';
import { sealFragmentFrames } from '../core/fragments.js';
import { deriveRecordKeys } from '../core/keychain.js';
import type { RecordMetadata } from '../core/metadata.js';
import { throwIfAborted } from '../core/progress.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import { splitStream } from '../core/split-stream.js';
import type { ByteSource } from '../core/byte-queue.js';
import { decodeImage } from './decode-image.js';
import type { ProgressCallback, ProtectRequest, ProtectResult } from './engine-api.js';
import { FragmentBlobSink } from './fragment-blob-sink.js';
import { noiseBitmap } from './noise-preview.js';
import { readSlices } from './read-slices.js';
import { deflateRaw } from './deflate.js';

/**
 * The paper's pipeline for one record: (image → pixels →) AES-128-GCM → split by sequence key → Blobs.
 * Streams a file from disk in slices, so memory stays bounded whatever the file size.
 */
export async function protectInWorker(request: ProtectRequest, onProgress: ProgressCallback = () => {}, signal?: AbortSignal): Promise<ProtectResult> {
  const key = parseSequenceKey(request.sequenceKey);
  const keys = await deriveRecordKeys(request.recordKey);
  const createdAt = Date.now();
  let metadata: RecordMetadata;
  let body: ByteSource;
  let noiseSize: { width: number; height: number } | undefined;

  if (request.mode === 'image') {
    onProgress({ phase: 'decode', done: 0, total: request.source.size });
    const image = await decodeImage(request.source);
    throwIfAborted(signal);
    onProgress({ phase: 'decode', done: request.source.size, total: request.source.size });
    let pixels: Uint8Array = image.pixels;
    if (request.compress) {
      pixels = await deflateRaw(image.pixels, (done, total) => onProgress({ phase: 'compress', done, total }), signal);
    }
    metadata = {
      kind: 'image',
      name: request.name,
      mime: request.mime,
      byteLength: pixels.length,
      image: { width: image.width, height: image.height, pixelFormat: 'RGBA8' },
      ...(request.compress ? { bodyEncoding: 'deflate-raw' as const } : {}),
      createdAt,
    };
    body = [pixels];
    if (request.noisePreview) noiseSize = { width: image.width, height: image.height };
  } else {
    metadata = { kind: 'file', name: request.name, mime: request.mime, byteLength: request.source.size, createdAt };
    body = readSlices(request.source, undefined, signal);
  }

  const envelopeLength = plannedEnvelopeLength(metadata, request.chunkSize);
  const frames = await sealFragmentFrames(keys, key, envelopeLength);
  const sink = new FragmentBlobSink(frames.length);
  const noiseParts: Uint8Array[] = [];
  let noiseBytes = 0;
  const noiseWanted = noiseSize ? noiseSize.width * noiseSize.height * 4 : 0;
  const envelope = sealStream(keys, metadata, body, {
    chunkSize: request.chunkSize,
    signal,
    onProgress: (p) => onProgress({ phase: 'encrypt', ...p }),
  });
  async function* tapNoise(): AsyncGenerator<Uint8Array> {
    let first = true;
    for await (const piece of envelope) {
      // The first piece is the header and metadata; the noise is drawn from the pixels' ciphertext.
      if (!first && noiseBytes < noiseWanted) {
        noiseParts.push(piece);
        noiseBytes += piece.length;
      }
      first = false;
      yield piece;
    }
  }
  for await (const piece of splitStream(noiseSize ? tapNoise() : envelope, frames)) sink.push(piece);
  throwIfAborted(signal);
  const blobs = sink.finish();
  return {
    metadata,
    envelopeLength,
    fragments: frames.map((f, i) => ({ indexChar: f.indexChar, blob: blobs[i]! })),
    ...(noiseSize ? { noise: noiseBitmap(noiseParts, noiseSize.width, noiseSize.height) } : {}),
  };
}
