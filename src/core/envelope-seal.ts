import { ByteQueue, type ByteSource } from './byte-queue.js';
import { asBufferSource } from './bytes.js';
import { InputInvalidError } from './errors.js';
import {
  bodyChunkCount,
  checkChunkSize,
  computeCommitment,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CONCURRENCY,
  envelopeLength,
  HEADER_LENGTH,
  lengthMismatch,
  NONCE_PREFIX_LENGTH,
  nonce,
  parseEnvelopeHeader,
  TAG_LENGTH,
  type EnvelopeHeader,
  uncommittedHeader,
} from './envelope-header.js';
import { bodySegments, checkSegment, type BodySegment, type SegmentContext } from './envelope-segments.js';
import { systemRandomBytes, type RandomBytes, type RecordKeys } from './keychain.js';
import { encodeMetadataBlock, type RecordMetadata } from './metadata.js';
import { inOrder, OrderedWindow } from './ordered.js';
import { throwIfAborted, type LongOperationOptions } from './progress.js';

/** Sealing an envelope (FORMAT.md §7): header, metadata segment and body chunks, sequentially or by segment. */
export interface SealOptions {
  readonly chunkSize?: number | undefined;
  /** Source of the nonce prefix. Only test vectors replace it: a repeated prefix under one key is fatal. */
  readonly randomBytes?: RandomBytes | undefined;
}

/**
 * Encrypts one record as a STREAM of chunks. It hands out each counter value once and in order, so the
 * same nonce can never be used twice with its key, whatever the caller does.
 */
export class EnvelopeSealer {
  /** Header ‖ metadata segment: the first bytes of the envelope. */
  readonly head: Uint8Array;
  readonly chunkCount: number;
  readonly totalLength: number;
  private nextChunk = 0;

  private constructor(
    private readonly keys: RecordKeys,
    readonly header: EnvelopeHeader,
    readonly metadata: RecordMetadata,
    metadataSegment: Uint8Array,
  ) {
    this.head = new Uint8Array(HEADER_LENGTH + metadataSegment.length);
    this.head.set(header.bytes, 0);
    this.head.set(metadataSegment, HEADER_LENGTH);
    this.chunkCount = bodyChunkCount(metadata.byteLength, header.chunkSize);
    this.totalLength = envelopeLength(metadata.byteLength, header.chunkSize, header.metadataLength);
  }

  static async create(keys: RecordKeys, metadata: RecordMetadata, options: SealOptions = {}): Promise<EnvelopeSealer> {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    checkChunkSize(chunkSize, metadata.byteLength);
    const block = encodeMetadataBlock(metadata);
    const noncePrefix = (options.randomBytes ?? systemRandomBytes)(NONCE_PREFIX_LENGTH);
    if (noncePrefix.length !== NONCE_PREFIX_LENGTH) throw new InputInvalidError('randomBytes returned the wrong length.');
    const bytes = uncommittedHeader(chunkSize, block.length + TAG_LENGTH, noncePrefix);
    bytes.set(await computeCommitment(keys, bytes), 24);
    const header = parseEnvelopeHeader(bytes);
    const segment = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce(noncePrefix, 0, false), additionalData: asBufferSource(bytes) }, keys.encryption, asBufferSource(block)),
    );
    return new EnvelopeSealer(keys, header, metadata, segment);
  }

  /** Plaintext length of body chunk `index`: chunkSize for all but the last. */
  chunkPlaintextLength(index: number): number {
    const { chunkSize } = this.header;
    return index < this.chunkCount - 1 ? chunkSize : this.metadata.byteLength - chunkSize * (this.chunkCount - 1);
  }

  /** Encrypts the next body chunk; chunks must come in order, each exactly `chunkPlaintextLength` long. */
  async sealNext(plaintext: Uint8Array): Promise<Uint8Array> {
    const index = this.nextChunk;
    if (index >= this.chunkCount) throw new InputInvalidError('All chunks of this record are already sealed.');
    const expected = this.chunkPlaintextLength(index);
    if (plaintext.length !== expected) throw new InputInvalidError('Chunk has the wrong length.', { index, expected, actual: plaintext.length });
    this.nextChunk++;
    const last = index === this.chunkCount - 1;
    return new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: nonce(this.header.noncePrefix, index + 1, last), additionalData: asBufferSource(this.header.bytes) },
        this.keys.encryption,
        asBufferSource(plaintext),
      ),
    );
  }

  get done(): boolean {
    return this.nextChunk === this.chunkCount;
  }

  /**
   * Hands the whole body out as segments, to be sealed in parallel with `sealBodySegment`; afterwards this
   * sealer seals nothing more, so no counter can be handed out twice.
   */
  claimSegments(chunksPerSegment: number): BodySegment[] {
    if (this.nextChunk !== 0) throw new InputInvalidError('Chunks of this record were already sealed one by one.');
    const segments = bodySegments(this.header, this.metadata.byteLength, chunksPerSegment);
    this.nextChunk = this.chunkCount;
    return segments;
  }

  /** What segment workers need besides the key. */
  get segmentContext(): SegmentContext {
    return { headerBytes: this.header.bytes, byteLength: this.metadata.byteLength };
  }

  /** Index of the chunk `sealNext` will seal. */
  get nextIndex(): number {
    return this.nextChunk;
  }
}

export interface SealStreamOptions extends SealOptions, LongOperationOptions {
  /**
   * Chunks encrypted at once. WebCrypto runs off the calling thread, so keeping a few calls in flight
   * hides each call's round trip; results still come out strictly in order.
   */
  readonly concurrency?: number | undefined;
}


/**
 * Encrypts `source` (which must yield exactly metadata.byteLength bytes, in pieces of any size) and yields
 * the envelope as pieces: first the head, then one piece per chunk.
 */
export async function* sealStream(keys: RecordKeys, metadata: RecordMetadata, source: ByteSource, options: SealStreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
  const { signal, onProgress } = options;
  throwIfAborted(signal);
  const sealer = await EnvelopeSealer.create(keys, metadata, options);
  yield sealer.head;
  const queue = new ByteQueue();
  const inFlight = new OrderedWindow<Uint8Array>(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
  const total = metadata.byteLength;
  let taken = 0;
  let done = 0;
  async function* sealReady(flush: boolean): AsyncGenerator<Uint8Array> {
    for (;;) {
      throwIfAborted(signal);
      const chunk = sealer.done ? undefined : queue.take(sealer.chunkPlaintextLength(sealer.nextIndex));
      if (chunk) {
        throwIfAborted(signal);
        taken += chunk.length;
        inFlight.push(sealer.sealNext(chunk), chunk.length);
      }
      if (inFlight.full || (!chunk && inFlight.size > 0 && (flush || sealer.done))) {
        const { value, weight } = await inFlight.shift();
        done += weight;
        onProgress?.({ done, total });
        yield value;
      } else if (!chunk) {
        return;
      }
    }
  }
  yield* sealReady(false);
  for await (const piece of source) {
    if (taken + queue.length + piece.length > total) throw lengthMismatch(total, taken + queue.length + piece.length);
    queue.push(piece);
    yield* sealReady(false);
  }
  yield* sealReady(true);
  if (!sealer.done) throw lengthMismatch(total, taken + queue.length);
}

/**
 * Seals the body chunks of one segment. Nonce safety rests on the caller handing out each segment of a
 * sealer once: `EnvelopeSealer.claimSegments` does so and then refuses any further chunk.
 */
export async function sealBodySegment(encryption: CryptoKey, context: SegmentContext, segment: BodySegment, plaintext: Uint8Array, concurrency = DEFAULT_CONCURRENCY): Promise<Uint8Array[]> {
  const header = parseEnvelopeHeader(context.headerBytes);
  const chunks = checkSegment(context, header, segment);
  if (plaintext.length !== segment.plainEnd - segment.plainStart) throw lengthMismatch(segment.plainEnd - segment.plainStart, plaintext.length);
  const { chunkSize } = header;
  return inOrder(segment.chunkCount, concurrency, async (i) => {
    const index = segment.firstChunk + i;
    const piece = plaintext.subarray(i * chunkSize, Math.min(plaintext.length, (i + 1) * chunkSize));
    const iv = nonce(header.noncePrefix, index + 1, index === chunks - 1);
    return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: asBufferSource(header.bytes) }, encryption, asBufferSource(piece)));
  });
}
