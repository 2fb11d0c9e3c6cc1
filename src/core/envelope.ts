import { ByteQueue, type ByteSource } from './byte-queue.js';
import { asBufferSource, constantTimeEqual, readU32, readU16, writeU16, writeU32 } from './bytes.js';
import { EnvelopeError, InputInvalidError, WrongRecordKeyError } from './errors.js';
import { hmacSha256, systemRandomBytes, type RandomBytes, type RecordKeys } from './keychain.js';
import { decodeMetadataBlock, encodeMetadataBlock, type RecordMetadata } from './metadata.js';
import { throwIfAborted, type LongOperationOptions } from './progress.js';

/** "EHRV" */
export const ENVELOPE_MAGIC = Uint8Array.of(0x45, 0x48, 0x52, 0x56);
export const ENVELOPE_VERSION = 1;
/** AES-128-GCM in the STREAM construction, keys from HKDF-SHA-256 (FORMAT.md §3). */
export const ALGORITHM_AES128GCM_STREAM = 1;
export const HEADER_LENGTH = 40;
export const TAG_LENGTH = 16;
export const NONCE_PREFIX_LENGTH = 7;
const COMMITTED_LENGTH = 24;
/**
 * 512 KiB: in Chromium here AES-GCM ran ~1,950 MiB/s in 256–512 KiB calls, ~1,550 at 64 KiB and only
 * ~750 at 1 MiB and above; 512 KiB is the fastest size measured and still small for a phone's memory.
 */
export const DEFAULT_CHUNK_SIZE = 512 * 1024;
export const MIN_CHUNK_SIZE = 64;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** The counter is 32 bits and counter 0 is the metadata segment. */
const MAX_BODY_CHUNKS = 2 ** 32 - 1;

export interface EnvelopeHeader {
  readonly version: number;
  readonly algorithm: number;
  readonly flags: number;
  readonly chunkSize: number;
  /** Length of the encrypted metadata segment, tag included. */
  readonly metadataLength: number;
  readonly noncePrefix: Uint8Array;
  readonly commitment: Uint8Array;
  /** The 40 header bytes, used as additional authenticated data for every segment. */
  readonly bytes: Uint8Array;
}

function malformed(message: string, details: Record<string, unknown> = {}): EnvelopeError {
  return new EnvelopeError('ENVELOPE_MALFORMED', `This is not a readable EHR Vault record: ${message}`, 'Check that all fragments belong to the same record and were downloaded completely.', details);
}

export function bodyChunkCount(byteLength: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(byteLength / chunkSize));
}

export function bodyCiphertextLength(byteLength: number, chunkSize: number): number {
  return byteLength + TAG_LENGTH * bodyChunkCount(byteLength, chunkSize);
}

/** Total bytes of an envelope: header, metadata segment and body. Known before any encryption. */
export function envelopeLength(byteLength: number, chunkSize: number, metadataLength: number): number {
  return HEADER_LENGTH + metadataLength + bodyCiphertextLength(byteLength, chunkSize);
}

/** The envelope length a record will have, computed without any cryptography, to plan fragments first. */
export function plannedEnvelopeLength(metadata: RecordMetadata, chunkSize = DEFAULT_CHUNK_SIZE): number {
  return envelopeLength(metadata.byteLength, chunkSize, encodeMetadataBlock(metadata).length + TAG_LENGTH);
}

function nonce(prefix: Uint8Array, counter: number, last: boolean): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(12);
  out.set(prefix, 0);
  writeU32(out, NONCE_PREFIX_LENGTH, counter);
  out[11] = last ? 1 : 0;
  return out;
}

async function computeCommitment(keys: RecordKeys, header: Uint8Array): Promise<Uint8Array> {
  return (await hmacSha256(keys.commitment, header.subarray(0, COMMITTED_LENGTH))).subarray(0, 16);
}

/** Structural parse of the 40-byte header; no key needed, nothing verified yet. */
export function parseEnvelopeHeader(bytes: Uint8Array): EnvelopeHeader {
  if (bytes.length < HEADER_LENGTH) throw malformed('too short for a header', { length: bytes.length });
  for (let i = 0; i < 4; i++) if (bytes[i] !== ENVELOPE_MAGIC[i]) throw malformed('wrong magic');
  const version = bytes[4]!;
  const algorithm = bytes[5]!;
  const flags = readU16(bytes, 6);
  if (version !== ENVELOPE_VERSION || algorithm !== ALGORITHM_AES128GCM_STREAM || flags !== 0) {
    throw new EnvelopeError('ENVELOPE_UNSUPPORTED', `This record uses format version ${version}, algorithm ${algorithm}, flags ${flags}, which this version of EHR Vault cannot read.`, 'Update EHR Vault and try again.', { version, algorithm, flags });
  }
  const chunkSize = readU32(bytes, 8);
  const metadataLength = readU32(bytes, 12);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) throw malformed('chunk size out of range', { chunkSize });
  const block = metadataLength - TAG_LENGTH;
  if (block < 256 || block > 65_536 || block % 256 !== 0) throw malformed('metadata length out of range', { metadataLength });
  if (bytes[23] !== 0) throw malformed('reserved byte is not zero');
  const header = bytes.slice(0, HEADER_LENGTH);
  return {
    version,
    algorithm,
    flags,
    chunkSize,
    metadataLength,
    noncePrefix: header.slice(16, 16 + NONCE_PREFIX_LENGTH),
    commitment: header.slice(24, 40),
    bytes: header,
  };
}

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
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
      throw new InputInvalidError(`chunkSize must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}.`, { chunkSize });
    }
    if (bodyChunkCount(metadata.byteLength, chunkSize) > MAX_BODY_CHUNKS) throw new InputInvalidError('The record is too large for this chunk size.');
    const block = encodeMetadataBlock(metadata);
    const noncePrefix = (options.randomBytes ?? systemRandomBytes)(NONCE_PREFIX_LENGTH);
    if (noncePrefix.length !== NONCE_PREFIX_LENGTH) throw new InputInvalidError('randomBytes returned the wrong length.');
    const bytes = new Uint8Array(HEADER_LENGTH);
    bytes.set(ENVELOPE_MAGIC, 0);
    bytes[4] = ENVELOPE_VERSION;
    bytes[5] = ALGORITHM_AES128GCM_STREAM;
    writeU16(bytes, 6, 0);
    writeU32(bytes, 8, chunkSize);
    writeU32(bytes, 12, block.length + TAG_LENGTH);
    bytes.set(noncePrefix, 16);
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
    const header = parseEnvelopeHeader(headerBytes);
    if (!constantTimeEqual(await computeCommitment(keys, header.bytes), header.commitment)) {
      throw new WrongRecordKeyError('The record key does not open this record (or its header was altered).');
    }
    return new EnvelopeOpener(keys, header);
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
    this.metadataValue = decodeMetadataBlock(block);
    if (this.chunkCount > MAX_BODY_CHUNKS) throw malformed('too many chunks');
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

function tampered(what: string, details: Record<string, unknown>): EnvelopeError {
  return new EnvelopeError('ENVELOPE_TAMPERED', `The record failed its integrity check at ${what}: it was altered or damaged.`, 'Download the fragments again; if this persists, the stored copy is damaged.', details);
}

export interface SealStreamOptions extends SealOptions, LongOperationOptions {
  /**
   * Chunks encrypted at once. WebCrypto runs off the calling thread, so keeping a few calls in flight
   * hides each call's round trip; results still come out strictly in order.
   */
  readonly concurrency?: number | undefined;
}

export const DEFAULT_CONCURRENCY = 4;

/** Runs async steps with up to `limit` in flight and hands results back in submission order. */
class OrderedWindow<T> {
  private readonly queue: { promise: Promise<T>; weight: number }[] = [];
  constructor(private readonly limit: number) {}
  push(promise: Promise<T>, weight: number): void {
    // Observed at once so a failure of a call still queued is not reported as unhandled; it is
    // rethrown when its turn comes.
    promise.catch(() => {});
    this.queue.push({ promise, weight });
  }
  get full(): boolean {
    return this.queue.length >= this.limit;
  }
  get size(): number {
    return this.queue.length;
  }
  async shift(): Promise<{ value: T; weight: number }> {
    const head = this.queue.shift()!;
    return { value: await head.promise, weight: head.weight };
  }
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

/** The source yielded a different number of bytes than its metadata promised: it changed while read. */
export function lengthMismatch(expected: number, actual: number): EnvelopeError {
  return new EnvelopeError('SOURCE_LENGTH_MISMATCH', `The file changed while it was being read (expected ${expected} bytes, got ${actual}).`, 'Pick the file again and retry.', { expected, actual });
}

/**
 * A run of whole body chunks: the unit that several workers seal or open at once (FORMAT.md §5.1).
 * Offsets are in the plaintext and in the envelope; every chunk keeps its own counter, so segments can
 * be processed in any order and on any thread without changing a byte of the envelope.
 */
export interface BodySegment {
  readonly index: number;
  readonly firstChunk: number;
  readonly chunkCount: number;
  readonly plainStart: number;
  readonly plainEnd: number;
  /** Offsets within the envelope (header and metadata segment included). */
  readonly cipherStart: number;
  readonly cipherEnd: number;
}

/** What a worker needs to seal or open segments: the header (AAD, nonce prefix) and the body length. */
export interface SegmentContext {
  readonly headerBytes: Uint8Array;
  readonly byteLength: number;
}

/** Cuts a body of `byteLength` bytes into segments of `chunksPerSegment` chunks (the last may be shorter). */
export function bodySegments(header: EnvelopeHeader, byteLength: number, chunksPerSegment: number): BodySegment[] {
  if (!Number.isInteger(chunksPerSegment) || chunksPerSegment < 1) throw new InputInvalidError('chunksPerSegment must be a positive integer.', { chunksPerSegment });
  const { chunkSize, metadataLength } = header;
  const chunks = bodyChunkCount(byteLength, chunkSize);
  const bodyStart = HEADER_LENGTH + metadataLength;
  const segments: BodySegment[] = [];
  for (let first = 0; first < chunks; first += chunksPerSegment) {
    const count = Math.min(chunksPerSegment, chunks - first);
    const plainStart = first * chunkSize;
    const plainEnd = Math.min(byteLength, (first + count) * chunkSize);
    segments.push({
      index: segments.length,
      firstChunk: first,
      chunkCount: count,
      plainStart,
      plainEnd,
      cipherStart: bodyStart + plainStart + first * TAG_LENGTH,
      cipherEnd: bodyStart + plainEnd + (first + count) * TAG_LENGTH,
    });
  }
  return segments;
}

/**
 * Runs `task(i)` for i in [0, count) with up to `limit` in flight; results in index order. If several
 * fail, the lowest index's error is thrown, so damage is reported in stream order whatever finished first.
 */
async function inOrder<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  const failures = new Map<number, unknown>();
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      try {
        out[i] = await task(i);
      } catch (error) {
        failures.set(i, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, lane));
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
  return out;
}

/** Checks that `segment` is a run of whole chunks of this record; returns the record's chunk count. */
function checkSegment(context: SegmentContext, header: EnvelopeHeader, segment: BodySegment): number {
  const { chunkSize, metadataLength } = header;
  const chunks = bodyChunkCount(context.byteLength, chunkSize);
  const { firstChunk, chunkCount } = segment;
  const plainEnd = Math.min(context.byteLength, (firstChunk + chunkCount) * chunkSize);
  const ok =
    Number.isSafeInteger(firstChunk) &&
    Number.isSafeInteger(chunkCount) &&
    firstChunk >= 0 &&
    chunkCount >= 1 &&
    firstChunk + chunkCount <= chunks &&
    segment.plainStart === firstChunk * chunkSize &&
    segment.plainEnd === plainEnd &&
    segment.cipherStart === HEADER_LENGTH + metadataLength + segment.plainStart + firstChunk * TAG_LENGTH &&
    segment.cipherEnd === HEADER_LENGTH + metadataLength + plainEnd + (firstChunk + chunkCount) * TAG_LENGTH;
  if (!ok) throw new InputInvalidError('The segment does not match the record.', { firstChunk, chunkCount });
  return chunks;
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
