import { DEFAULT_CHUNK_SIZE, EnvelopeSealer, plannedEnvelopeLength, sealStream } from '../core/envelope.js';
import { forgetBatch, stretchForBatch } from '../core/batch-kdf.js';
import { DEFAULT_KDF } from '../core/kdf.js';
import { wrapEnvelopeRange, type PayloadPlacement } from '../core/object-wrap.js';
import { recordIdBytes } from '../core/open-objects.js';
import { deriveKeysForProtect } from '../core/record.js';
import { planObjects } from '../core/seal-objects.js';
import { checkParityCount, computeParityBodies, DEFAULT_PARITY } from '../core/parity.js';
import { ParityAccumulator } from '../core/parity-accumulator.js';
import { deriveParityKey } from '../core/keychain.js';
import { HEAD_LENGTH } from '../core/object-head.js';
import type { RecordMetadata } from '../core/metadata.js';
import { throwIfAborted } from '../core/progress.js';
import { InputInvalidError } from '../core/errors.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import type { ByteSource } from '../core/byte-queue.js';
import { decodeImage, inspect, readForInspection, type SourceInspection } from './decode-image.js';
import type { ProgressCallback, ProtectedObject, ProtectRequest, ProtectResult, StoredAs } from './engine-api.js';
import { BlobBuilder } from './blob-builder.js';
import { noiseBitmap } from './noise-preview.js';
import { chooseSink, finishSink } from './output-sink.js';
import { engineStep } from './engine-step.js';
import { chunksPerSegment, prestartPool, runSegments } from './segment-pool.js';
import { encodePixelBody } from './pixel-body.js';
import { compressFileIfWorthIt } from './file-compression.js';
import { FragmentHashes, oneShotHash, streamingHash } from './fragment-hashes.js';

/**
 * Parity rows held in memory while protecting (p × B bytes): a 256 MiB record at n = 8, p = 2 holds 66 MiB
 * (B is padded, §4.3); a 1 GiB record (264 MiB) reads its data bodies back instead.
 */
const PARITY_IN_MEMORY_MAX = 96 * 1024 * 1024;

/**
 * The paper's pipeline for one record: (image → pixels →) AES-128-GCM → split by sequence key → sealed
 * objects (FORMAT.md §4). Streams a file in slices into a sealed-envelope Blob, so memory stays bounded
 * whatever the file size, then composes each object from its head, frame and a Blob slice of it.
 */
export async function protectInWorker(request: ProtectRequest, onProgress: ProgressCallback = () => {}, signal?: AbortSignal): Promise<ProtectResult> {
  const key = parseSequenceKey(request.sequenceKey);
  if (request.mode === 'file') prestartPool(request.source.size, request.chunkSize ?? DEFAULT_CHUNK_SIZE);
  onProgress({ phase: 'unlock', done: 0, total: 1 });
  // Argon2id of the sequence key: paid once per batch (FORMAT.md §3), here in the engine Worker when this
  // record is a batch of its own.
  engineStep(request.batch ? 'protect: deriving keys' : 'protect: Argon2id');
  const own = request.batch ? undefined : await stretchForBatch(key, request.kdf ?? DEFAULT_KDF);
  const batch = (request.batch ?? own)!;
  const kdf = batch.kdf;
  const keys = await deriveKeysForProtect(request.recordKey, request.recordId, key, batch).finally(() => forgetBatch(own));
  onProgress({ phase: 'unlock', done: 1, total: 1 });
  throwIfAborted(signal);
  const createdAt = Date.now();
  let metadata: RecordMetadata;
  let body: ByteSource | undefined;
  let noiseSize: { width: number; height: number } | undefined;

  let stored: StoredAs;
  let inspection: SourceInspection | undefined;
  let bytes: Uint8Array | undefined;
  if (request.mode !== 'file' || request.mime === '' || request.mime === 'application/octet-stream') {
    // Content decides: a renamed, extension-less or mislabelled file is still recognised.
    onProgress({ phase: 'decode', done: 0, total: request.source.size });
    engineStep('protect: reading the first bytes');
    bytes = await readForInspection(request.source, request.name);
    inspection = inspect(bytes, request.name, request.mime);
    throwIfAborted(signal);
  }
  const asPixels = request.mode === 'image' || (request.mode === 'auto' && inspection?.storeAs === 'pixels');

  if (asPixels) {
    engineStep('protect: decoding the image');
    const image = await decodeImage(request.source, bytes && bytes.length === request.source.size ? bytes : undefined);
    throwIfAborted(signal);
    onProgress({ phase: 'decode', done: request.source.size, total: request.source.size });
    let pixels: Uint8Array = image.pixels;
    // Default on: PNG row filters + native DEFLATE, or lossless WebP where it is smaller (pixel-body.ts).
    const compress = request.compress ?? true;
    const encoded = compress ? await encodePixelBody(image.pixels, image, inspection?.type ?? 'unknown', (done, total) => onProgress({ phase: 'compress', done, total }), signal) : undefined;
    if (encoded) pixels = encoded.body;
    metadata = {
      kind: 'image',
      name: request.name,
      mime: request.mime,
      byteLength: pixels.length,
      image: { width: image.width, height: image.height, pixelFormat: image.pixelFormat },
      ...(encoded ? { bodyEncoding: encoded.bodyEncoding } : {}),
      createdAt,
    };
    body = [pixels];
    if (request.noisePreview) noiseSize = { width: image.width, height: image.height };
    stored = { as: 'pixels', type: inspection?.type ?? 'unknown' };
  } else {
    // A file keeps the caller's MIME type unless it was empty or generic and the content says more.
    const generic = request.mime === '' || request.mime === 'application/octet-stream';
    const mime = generic && inspection && inspection.type !== 'unknown' ? inspection.mime : request.mime;
    // Small files that compress (DICOM, PDF, text) are deflated whole and sealed in memory (§6.3).
    engineStep('protect: compression check');
    const compressed = (request.compress ?? true) ? await compressFileIfWorthIt(request.source, (done, total) => onProgress({ phase: 'compress', done, total }), signal) : undefined;
    if (compressed) {
      metadata = { kind: 'file', name: request.name, mime, byteLength: compressed.length, bodyEncoding: 'deflate-raw', contentLength: request.source.size, createdAt };
      body = [compressed];
    } else {
      prestartPool(request.source.size, request.chunkSize ?? DEFAULT_CHUNK_SIZE);
      metadata = { kind: 'file', name: request.name, mime, byteLength: request.source.size, createdAt };
    }
    stored = { as: 'original-bytes', type: inspection?.type ?? 'unknown', reason: request.mode === 'file' ? 'requested' : inspection?.reason };
    if (inspection) onProgress({ phase: 'decode', done: request.source.size, total: request.source.size });
  }

  const envelopeLength = plannedEnvelopeLength(metadata, request.chunkSize);
  const parity = request.parity ?? DEFAULT_PARITY;
  checkParityCount(parity);
  engineStep('protect: planning the objects');
  const plan = await planObjects({ keys, recordId: recordIdBytes(request.recordId), sequenceKey: key, envelopeLength, kdf, parity });
  // Plain objects: they travel to the pool workers by structured clone.
  const placements: PayloadPlacement[] = plan.objects.map((o) => ({ payloadStart: o.payloadStart, payloadEnd: o.payloadEnd, prefixLength: o.prefixLength }));
  // Each object's SHA-256, from the envelope bytes as they are produced (fragment-hashes.ts).
  const hashes = await FragmentHashes.create(plan.objects);
  // Parity folded in as the envelope is produced (parity-accumulator.ts) while its rows fit in memory;
  // larger records read their data bodies back afterwards, block by block.
  const accumulator = parity > 0 && ParityAccumulator.bytesNeeded(parity, plan.bodyLength) <= (request.parityInMemoryMax ?? PARITY_IN_MEMORY_MAX) ? new ParityAccumulator(key.n, parity, plan.bodyLength, plan.objects) : undefined;
  let envelope: Blob;
  let scratch: string | undefined;
  const noiseParts: Uint8Array[] = [];
  if (body) {
    // Pixels are already in memory: sealed as one stream, gathered into Blobs as they come.
    const builder = new BlobBuilder();
    let noiseBytes = 0;
    const noiseWanted = noiseSize ? noiseSize.width * noiseSize.height * 4 : 0;
    let first = true;
    let offset = 0;
    for await (const piece of sealStream(keys, metadata, body, { chunkSize: request.chunkSize, signal, onProgress: (p) => onProgress({ phase: 'encrypt', ...p }) })) {
      // The first piece is the header and metadata; the noise is drawn from the pixels' ciphertext.
      if (!first && noiseBytes < noiseWanted) {
        noiseParts.push(piece);
        noiseBytes += piece.length;
      }
      first = false;
      const wrapped = await wrapEnvelopeRange(keys.wrap, placements, offset, piece);
      hashes.add(offset, wrapped);
      accumulator?.add(offset, wrapped);
      builder.push(wrapped);
      offset += piece.length;
    }
    envelope = builder.finish();
  } else {
    // A file is read, sealed and written segment by segment over a pool of workers (segment-pool.ts).
    const sealer = await EnvelopeSealer.create(keys, metadata, { chunkSize: request.chunkSize });
    const segments = sealer.claimSegments(chunksPerSegment(sealer.chunkCount));
    engineStep('protect: opening the scratch file');
    const sink = await chooseSink(request, envelopeLength - sealer.head.length, -sealer.head.length);
    const head = await wrapEnvelopeRange(keys.wrap, placements, 0, sealer.head);
    hashes.add(0, head);
    accumulator?.add(0, head);
    engineStep(`protect: sealing ${segments.length} segments in the pool (${sink.kind}${'relay' in sink ? ', relayed' : ''})`);
    const parts = await runSegments({
      direction: 'seal',
      source: request.source,
      encryption: keys.encryption,
      context: sealer.segmentContext,
      segments,
      sink,
      wrap: { key: keys.wrap, placements },
      signal,
      onProgress: (done, total) => onProgress({ phase: 'encrypt', done, total }),
      onOutput: (segment, output) => {
        hashes.addAll(segment.cipherStart, output);
        accumulator?.addAll(segment.cipherStart, output);
      },
      // Objects inside one lane's range are hashed on the pool's threads (segment-pool.ts).
      hash: {
        objects: plan.objects.map((o) => {
          // The object holding the envelope's head (sealed here, not in a segment) takes it as part of its lead.
          const start = sealer.head.length;
          return o.payloadStart < start && start < o.payloadEnd
            ? { payloadStart: start, payloadEnd: o.payloadEnd, lead: [o.head, o.sealedPrefix, head.subarray(o.payloadStart, start)], tail: o.sealedTail }
            : { payloadStart: o.payloadStart, payloadEnd: o.payloadEnd, lead: [o.head, o.sealedPrefix], tail: o.sealedTail };
        }),
        claim: (indices) => hashes.claim(indices),
        onDigest: (index, sha256) => hashes.provide(index, sha256),
      },
    });
    scratch = sink.kind === 'disk' ? sink.file : undefined;
    envelope = new Blob([head as BlobPart, await finishSink(sink, parts)]);
  }
  throwIfAborted(signal);
  engineStep('protect: hashes and parity');
  if (envelope.size !== envelopeLength) throw new InputInvalidError('The envelope has an unexpected length.', { expected: envelopeLength, actual: envelope.size });
  // An object is its head and sealed frame around a slice of the sealed envelope: slicing and composing
  // Blobs copies nothing.
  const digests = await hashes.finish();
  const objects: ProtectedObject[] = plan.objects.map((o, i) => ({
    slot: o.slot,
    sha256: digests[i]!,
    blob: new Blob([o.head as BlobPart, o.sealedPrefix as BlobPart, envelope.slice(o.payloadStart, o.payloadEnd), ...(o.sealedTail as BlobPart[])], { type: 'application/octet-stream' }),
  }));
  if (accumulator) {
    const bodies = await accumulator.finish(await deriveParityKey(request.recordKey));
    // Parity rows are at most PARITY_IN_MEMORY_MAX / p bytes: one digest each, as for data objects.
    const digests = await Promise.all(bodies.map((pieces, r) => oneShotHash([plan.parityHeads[r]!, ...pieces])));
    for (const [r, pieces] of bodies.entries()) objects.push({ slot: key.n + r, blob: new Blob([plan.parityHeads[r]! as BlobPart, ...(pieces as BlobPart[])], { type: 'application/octet-stream' }), sha256: digests[r]! });
  } else if (parity > 0) {
    // Parity objects (FORMAT.md §4.4): Reed–Solomon over the sealed data bodies, read back block by block
    // from the Blobs just composed, so memory stays (n + p) blocks whatever the record's size.
    const n = key.n;
    const parityHashes = await Promise.all(plan.parityHeads.map(() => streamingHash()));
    const builders = plan.parityHeads.map((head, r) => {
      const b = new BlobBuilder();
      b.push(head);
      parityHashes[r]!.update(head);
      return b;
    });
    let done = 0;
    const total = plan.bodyLength * n;
    await computeParityBodies(
      await deriveParityKey(request.recordKey),
      n,
      parity,
      plan.bodyLength,
      async (slot, start, end) => {
        throwIfAborted(signal);
        const bytes = new Uint8Array(await objects[slot]!.blob.slice(HEAD_LENGTH + start, HEAD_LENGTH + end).arrayBuffer());
        done += bytes.length;
        onProgress({ phase: 'parity', done, total });
        return bytes;
      },
      (r, _offset, bytes) => {
        parityHashes[r]!.update(bytes);
        builders[r]!.push(bytes);
      },
    );
    for (const [r, b] of builders.entries()) objects.push({ slot: n + r, blob: b.finish('application/octet-stream'), sha256: parityHashes[r]!.digest() });
  }
  return {
    metadata,
    stored,
    envelopeLength,
    objects,
    ...(scratch ? { scratch } : {}),
    ...(noiseSize ? { noise: noiseBitmap(noiseParts, noiseSize.width, noiseSize.height) } : {}),
  };
}
