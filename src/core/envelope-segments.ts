import { InputInvalidError } from './errors.js';
import { bodyChunkCount, HEADER_LENGTH, TAG_LENGTH, type EnvelopeHeader } from './envelope-header.js';

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

/** Checks that `segment` is a run of whole chunks of this record; returns the record's chunk count. */
export function checkSegment(context: SegmentContext, header: EnvelopeHeader, segment: BodySegment): number {
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
