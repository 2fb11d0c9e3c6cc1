import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { EnvelopeError, InputInvalidError } from './errors.js';
import { hmacSha256, type RecordKeys } from './keychain.js';
import { encodeMetadataBlock, type RecordMetadata } from './metadata.js';

/**
 * The envelope header and the arithmetic fixed by it (FORMAT.md §5, §7): constants, lengths, nonces, the
 * key commitment, and the errors every envelope reader and writer shares.
 */
/** "EHRV" */
export const ENVELOPE_MAGIC = Uint8Array.of(0x45, 0x48, 0x52, 0x56);
export const ENVELOPE_VERSION = 2;
/** AES-128-GCM in the STREAM construction, keys of FORMAT.md §3. */
export const ALGORITHM_AES128GCM_STREAM = 1;
export const HEADER_LENGTH = 56;
export const TAG_LENGTH = 16;
export const NONCE_PREFIX_LENGTH = 7;
export const COMMITTED_LENGTH = 24;
/**
 * 512 KiB: in Chromium here AES-GCM ran ~1,950 MiB/s in 256–512 KiB calls, ~1,550 at 64 KiB and only
 * ~750 at 1 MiB and above; 512 KiB is the fastest size measured and still small for a phone's memory.
 */
export const DEFAULT_CHUNK_SIZE = 512 * 1024;
/** Chunks kept in flight at once: WebCrypto runs off the calling thread, so a few calls hide each one's round trip. */
export const DEFAULT_CONCURRENCY = 4;
export const MIN_CHUNK_SIZE = 64;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** The counter is 32 bits, counter 0 is the metadata segment, and no counter may wrap (FORMAT.md §6). */
export const MAX_BODY_CHUNKS = 2 ** 32 - 2;

export interface EnvelopeHeader {
  readonly version: number;
  readonly algorithm: number;
  readonly flags: number;
  readonly chunkSize: number;
  /** Length of the encrypted metadata segment, tag included. */
  readonly metadataLength: number;
  readonly noncePrefix: Uint8Array;
  readonly commitment: Uint8Array;
  /** The 56 header bytes, used as additional authenticated data for every segment. */
  readonly bytes: Uint8Array;
}

export function malformed(message: string, details: Record<string, unknown> = {}): EnvelopeError {
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

export function nonce(prefix: Uint8Array, counter: number, last: boolean): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(12);
  out.set(prefix, 0);
  writeU32(out, NONCE_PREFIX_LENGTH, counter);
  out[11] = last ? 1 : 0;
  return out;
}

/**
 * The 56 header bytes before the key commitment is filled in (§5): magic, version, algorithm, flags, chunk
 * size, metadata length, nonce prefix; bytes 24…55 are zero until `computeCommitment` of bytes 0…23.
 */
export function uncommittedHeader(chunkSize: number, metadataLength: number, noncePrefix: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_LENGTH);
  bytes.set(ENVELOPE_MAGIC, 0);
  bytes[4] = ENVELOPE_VERSION;
  bytes[5] = ALGORITHM_AES128GCM_STREAM;
  writeU16(bytes, 6, 0);
  writeU32(bytes, 8, chunkSize);
  writeU32(bytes, 12, metadataLength);
  bytes.set(noncePrefix, 16);
  return bytes;
}

/** The chunk size a writer may choose (§5), and a body that fits the counter at that size (§6). */
export function checkChunkSize(chunkSize: number, byteLength: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new InputInvalidError(`chunkSize must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}.`, { chunkSize });
  }
  if (bodyChunkCount(byteLength, chunkSize) > MAX_BODY_CHUNKS) throw new InputInvalidError('The record is too large for this chunk size.');
}

export async function computeCommitment(keys: Pick<RecordKeys, 'commitment'>, header: Uint8Array): Promise<Uint8Array> {
  return hmacSha256(keys.commitment, header.subarray(0, COMMITTED_LENGTH));
}

/**
 * Judges the fields of a header whose key commitment already matched (FORMAT.md §9 step 13): judging them
 * before would let anyone who can change bytes choose the error a reader reports.
 */
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
    commitment: header.slice(24, HEADER_LENGTH),
    bytes: header,
  };
}

export function tampered(what: string, details: Record<string, unknown>): EnvelopeError {
  return new EnvelopeError('ENVELOPE_TAMPERED', `The record failed its integrity check at ${what}: it was altered or damaged.`, 'Download the fragments again; if this persists, the stored copy is damaged.', details);
}

/** The source yielded a different number of bytes than its metadata promised: it changed while read. */
export function lengthMismatch(expected: number, actual: number): EnvelopeError {
  return new EnvelopeError('SOURCE_LENGTH_MISMATCH', `The file changed while it was being read (expected ${expected} bytes, got ${actual}).`, 'Pick the file again and retry.', { expected, actual });
}
