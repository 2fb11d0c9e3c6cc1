import { ByteQueue, type ByteSource } from './byte-queue.js';
import { asBufferSource, constantTimeEqual } from './bytes.js';
import { EnvelopeError, InputInvalidError } from './errors.js';
import {
  bodyChunkCount,
  COMMITTED_LENGTH,
  computeCommitment,
  DEFAULT_CONCURRENCY,
  envelopeLength,
  HEADER_LENGTH,
  MAX_BODY_CHUNKS,
  malformed,
  nonce,
  parseEnvelopeHeader,
  TAG_LENGTH,
  tampered,
  type EnvelopeHeader,
} from './envelope-header.js';
import { checkSegment, type BodySegment, type SegmentContext } from './envelope-segments.js';
import type { RecordKeys } from './keychain.js';
import { decodeMetadataBlock, type RecordMetadata } from './metadata.js';
import { inOrder, OrderedWindow } from './ordered.js';
import { throwIfAborted, type LongOperationOptions } from './progress.js';

/** Opening an envelope (FORMAT.md §7, §9 steps 13–15): commitment first, then fields, metadata and chunks. */
/** Decrypts an envelope segment by segment after checking the key commitment. */
export class EnvelopeOpener {
  private metadataValue: RecordMetadata | undefined;
  private nextChunk = 0;

  private constructor(
    private readonly keys: RecordKeys,
    readonly header: EnvelopeHeader,
  ) {}

  /**
   * Checks the header's key commitment. AES-GCM alone does not commit to its key; the commitment both
   * tells a wrong key apart from damage and rules out ciphertexts that open under two keys.
   */
  static async create(keys: RecordKeys, headerBytes: Uint8Array): Promise<EnvelopeOpener> {
    if (headerBytes.length < HEADER_LENGTH) throw new EnvelopeError('ENVELOPE_TRUNCATED', 'The record ends too early (in the header).', 'A fragment is incomplete: download the record again.', { what: 'the header' });
    // The keys are already known to be right (the sequence-key check of every object head matched), so a
    // commitment that does not match means the header bytes were altered.
    if (!constantTimeEqual(await computeCommitment(keys, headerBytes), headerBytes.subarray(COMMITTED_LENGTH, HEADER_LENGTH))) {
      throw tampered('the header', { segment: 'header', offset: 0, length: HEADER_LENGTH });
    }
    return new EnvelopeOpener(keys, parseEnvelopeHeader(headerBytes));
  }

  get metadata(): RecordMetadata {
    if (!this.metadataValue) throw new InputInvalidError('Open the metadata segment first.');
    return this.metadataValue;
  }

  get chunkCount(): number {
    return bodyChunkCount(this.metadata.byteLength, this.header.chunkSize);
  }

  get totalLength(): number {
    return envelopeLength(this.metadata.byteLength, this.header.chunkSize, this.header.metadataLength);
  }

  /** Ciphertext length of body chunk `index`, tag included. */
  chunkCiphertextLength(index: number): number {
    const { chunkSize } = this.header;
    const count = this.chunkCount;
    const plain = index < count - 1 ? chunkSize : this.metadata.byteLength - chunkSize * (count - 1);
    return plain + TAG_LENGTH;
  }

  async openMetadata(segment: Uint8Array): Promise<RecordMetadata> {
    if (segment.length !== this.header.metadataLength) throw malformed('metadata segment has the wrong length');
    let block: Uint8Array;
    try {
      block = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: nonce(this.header.noncePrefix, 0, false), additionalData: asBufferSource(this.header.bytes) },
          this.keys.encryption,
          asBufferSource(segment),
        ),
      );
    } catch {
      throw tampered('the record description', { segment: 'metadata', offset: HEADER_LENGTH, length: segment.length });
    }
    const metadata = decodeMetadataBlock(block);
    if (bodyChunkCount(metadata.byteLength, this.header.chunkSize) > MAX_BODY_CHUNKS) {
      throw new EnvelopeError('METADATA_INVALID', 'The record\'s description is invalid: too many chunks.', 'The record cannot be opened by this version; it may have been made by a faulty program.');
    }
    this.metadataValue = metadata;
    return this.metadataValue;
  }

  /** Opens the next body chunk (chunks must be given in order); a chunk comes out only if it authenticated. */
  async openNext(ciphertext: Uint8Array): Promise<Uint8Array> {
    const index = this.nextChunk;
    if (index >= this.chunkCount) throw new EnvelopeError('ENVELOPE_TRAILING_DATA', 'The record has more data than it should.', 'The fragments may have been altered; download them again.');
    if (ciphertext.length !== this.chunkCiphertextLength(index)) throw malformed('chunk has the wrong length', { index });
    // Claimed before awaiting, so several chunks can be in flight, each with its own counter.
    this.nextChunk++;
    const last = index === this.chunkCount - 1;
    try {
      const plain = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: nonce(this.header.noncePrefix, index + 1, last), additionalData: asBufferSource(this.header.bytes) },
        this.keys.encryption,
        asBufferSource(ciphertext),
      );
      return new Uint8Array(plain);
    } catch {
      throw tampered(`chunk ${index}`, { segment: 'body', chunk: index, offset: this.bodyOffset(index), length: ciphertext.length });
    }
  }

  /** Byte offset of body chunk `index` within the envelope, to map damage back to a fragment. */
  bodyOffset(index: number): number {
    return HEADER_LENGTH + this.header.metadataLength + index * (this.header.chunkSize + TAG_LENGTH);
  }

  get done(): boolean {
    return this.metadataValue !== undefined && this.nextChunk === this.chunkCount;
  }
}

export interface OpenedStream {
  readonly metadata: RecordMetadata;
  /** Plaintext chunks in order. Each is authentic; the whole is complete only when iteration ends without error. */
  readonly chunks: AsyncGenerator<Uint8Array, void, undefined>;
}

/**
 * Decrypts an envelope arriving in pieces of any size. Throws ENVELOPE_TRUNCATED if the source ends
 * early and ENVELOPE_TRAILING_DATA if it goes on after the last chunk.
 */
export interface OpenStreamOptions extends LongOperationOptions {
  readonly concurrency?: number | undefined;
  /**
   * Bytes the caller knows the envelope has (e.g. the sum of authenticated fragment payload lengths).
   * Checked right after the metadata authenticates, before anything is allocated from its byteLength.
   */
  readonly expectedLength?: number | undefined;
}

/**
 * Once the metadata authenticated: the envelope must be exactly as long as the bytes the caller holds,
 * checked before anything is allocated from the metadata's byteLength.
 */
export function checkEnvelopeLength(opener: EnvelopeOpener, expectedLength: number): void {
  if (opener.totalLength === expectedLength) return;
  throw opener.totalLength > expectedLength
    ? new EnvelopeError('ENVELOPE_TRUNCATED', 'The record ends too early (its description promises more data than the fragments hold).', 'A fragment is incomplete: download the fragments again.', { what: 'the body', expected: opener.totalLength, actual: expectedLength })
    : new EnvelopeError('ENVELOPE_TRAILING_DATA', 'The record has more data than it should.', 'The fragments may have been altered; download them again.', { expected: opener.totalLength, actual: expectedLength });
}

export async function openStream(keys: RecordKeys, source: ByteSource, options: OpenStreamOptions = {}): Promise<OpenedStream> {
  const { signal, onProgress } = options;
  const iterator = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  const queue = new ByteQueue();
  const fill = async (size: number, what: string): Promise<Uint8Array> => {
    for (;;) {
      const bytes = queue.take(size);
      if (bytes) return bytes;
      throwIfAborted(signal);
      const next = await iterator.next();
      if (next.done) throw new EnvelopeError('ENVELOPE_TRUNCATED', `The record ends too early (in ${what}).`, 'A fragment is incomplete: download the fragments again.', { what });
      queue.push(next.value);
    }
  };
  const opener = await EnvelopeOpener.create(keys, await fill(HEADER_LENGTH, 'the header'));
  const metadata = await opener.openMetadata(await fill(opener.header.metadataLength, 'the record description'));
  if (options.expectedLength !== undefined) checkEnvelopeLength(opener, options.expectedLength);
  const total = metadata.byteLength;
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    const inFlight = new OrderedWindow<Uint8Array>(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
    let done = 0;
    for (let index = 0; index < opener.chunkCount || inFlight.size > 0; ) {
      if (index < opener.chunkCount && !inFlight.full) {
        let ciphertext: Uint8Array;
        try {
          ciphertext = await fill(opener.chunkCiphertextLength(index), `chunk ${index}`);
        } catch (error) {
          // Report failures in stream order: a chunk already in flight that fails comes first.
          while (inFlight.size > 0) await inFlight.shift();
          throw error;
        }
        inFlight.push(opener.openNext(ciphertext), 0);
        index++;
        continue;
      }
      throwIfAborted(signal);
      const { value } = await inFlight.shift();
      done += value.length;
      onProgress?.({ done, total });
      yield value;
    }
    for (;;) {
      if (queue.length > 0) break;
      const next = await iterator.next();
      if (next.done) return;
      queue.push(next.value);
    }
    throw new EnvelopeError('ENVELOPE_TRAILING_DATA', 'The record has more data than it should.', 'The fragments may have been altered; download them again.');
  }
  return { metadata, chunks: chunks() };
}

/** Opens the body chunks of one segment; returns plaintext only if every chunk authenticated. */
export async function openBodySegment(encryption: CryptoKey, context: SegmentContext, segment: BodySegment, ciphertext: Uint8Array, concurrency = DEFAULT_CONCURRENCY): Promise<Uint8Array[]> {
  const header = parseEnvelopeHeader(context.headerBytes);
  const chunks = checkSegment(context, header, segment);
  if (ciphertext.length !== segment.cipherEnd - segment.cipherStart) {
    throw new EnvelopeError('ENVELOPE_TRUNCATED', `The record ends too early (in chunk ${segment.firstChunk}).`, 'A fragment is incomplete: download the fragments again.', { what: `chunk ${segment.firstChunk}` });
  }
  const stride = header.chunkSize + TAG_LENGTH;
  return inOrder(segment.chunkCount, concurrency, async (i) => {
    const index = segment.firstChunk + i;
    const piece = ciphertext.subarray(i * stride, Math.min(ciphertext.length, (i + 1) * stride));
    try {
      const iv = nonce(header.noncePrefix, index + 1, index === chunks - 1);
      return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: asBufferSource(header.bytes) }, encryption, asBufferSource(piece)));
    } catch {
      throw tampered(`chunk ${index}`, { segment: 'body', chunk: index, offset: segment.cipherStart + i * stride, length: piece.length });
    }
  });
}
