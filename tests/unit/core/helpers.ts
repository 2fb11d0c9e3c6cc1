/** Shared helpers for the core unit tests (not a test file itself). */
import { expect } from 'vitest';
import {
  EhrVaultError,
  concatBytes,
  deriveRecordKeys,
  stretchSequenceKey,
  openStream,
  toHex,
  sealStream,
  type ByteSource,
  type ErrorCode,
  type KdfParams,
  type RecordKeys,
  type SequenceKey,
  type RecordMetadata,
  type SealStreamOptions,
} from '../../../src/core/index.js';

/** Every code the core may throw (mirrors the ErrorCode union; a compile error here means the union changed). */
export const ALL_ERROR_CODES = [
  'ABORTED',
  'INPUT_INVALID',
  'SEQUENCE_KEY_INVALID',
  'WRONG_SEQUENCE_KEY',
  'WRONG_RECORD_KEY',
  'KEY_TEXT_INVALID',
  'SHARE_TEXT_INVALID',
  'FRAGMENT_MALFORMED',
  'FRAGMENT_UNSUPPORTED',
  'FRAGMENT_TRUNCATED',
  'FRAGMENT_FOREIGN',
  'FRAGMENT_TAMPERED',
  'FRAGMENT_DUPLICATE',
  'FRAGMENT_MISSING',
  'CHAIN_BROKEN',
  'CHAIN_LOOP',
  'ENVELOPE_MALFORMED',
  'ENVELOPE_UNSUPPORTED',
  'ENVELOPE_TAMPERED',
  'ENVELOPE_TRUNCATED',
  'ENVELOPE_TRAILING_DATA',
  'METADATA_INVALID',
  'SOURCE_LENGTH_MISMATCH',
] as const satisfies readonly ErrorCode[];

// Exhaustiveness: fails to compile if ErrorCode gains a member that is not listed above.
type MissingCodes = Exclude<ErrorCode, (typeof ALL_ERROR_CODES)[number]>;
export const noCodeMissing: MissingCodes extends never ? true : never = true;

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Deterministic bytes (xorshift32), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function randomKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

/** Small Argon2id parameters (readers accept them, FORMAT.md §3) so tests stay fast. */
export const TEST_KDF: KdfParams = { memoryKiB: 64, passes: 1, parallelism: 1 };

/**
 * Deterministic `RandomBytes` (xorshift32 stream): records made with it are reproducible byte for byte,
 * so statistical checks over many records never flake.
 */
export function seededRandom(seed: number): (length: number) => Uint8Array {
  let x = seed >>> 0 || 0x9e3779b9;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

/**
 * Argon2id memoised by (key, salt, parameters): the same stretch result the real KDF gives, computed once
 * per distinct input. Only for tests that open the same record many times (property tests, fuzzers).
 */
export function memoStretch(): (key: SequenceKey, salt: Uint8Array, params: KdfParams) => Promise<Uint8Array> {
  const cache = new Map<string, Promise<Uint8Array>>();
  return async (key, salt, params) => {
    const id = `${key.text}|${toHex(salt)}|${params.memoryKiB}/${params.passes}/${params.parallelism}`;
    let hit = cache.get(id);
    if (!hit) {
      hit = stretchSequenceKey(key, salt, params);
      cache.set(id, hit);
    }
    // Callers wipe what they are given: hand out a copy.
    return (await hit).slice();
  };
}

/** Envelope-level keys for tests of the envelope alone: any 32 bytes stand in for the stretched key. */
export async function freshKeys(): Promise<{ recordKey: Uint8Array; recordId: Uint8Array; keys: RecordKeys }> {
  const recordKey = randomKey();
  const recordId = randomKey();
  return { recordKey, recordId, keys: await deriveRecordKeys(recordKey, recordId, crypto.getRandomValues(new Uint8Array(32)), crypto.getRandomValues(new Uint8Array(16))) };
}

export function fileMetadata(byteLength: number, name = 'record.bin', mime = 'application/octet-stream'): RecordMetadata {
  return { kind: 'file', name, mime, byteLength };
}

/** Cuts `bytes` into pieces of the given sizes (empty pieces included), then one piece with the rest. */
export function splitBySizes(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const size of sizes) {
    const end = Math.min(bytes.length, at + size);
    pieces.push(bytes.subarray(at, end));
    at = end;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}

export async function* asAsync(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array, void, undefined> {
  for (const piece of pieces) {
    await Promise.resolve();
    yield piece;
  }
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array; pieces: Uint8Array[] }> {
  const pieces: Uint8Array[] = [];
  for await (const piece of source) pieces.push(piece.slice());
  return { bytes: concatBytes(pieces), pieces };
}

export async function sealToBytes(keys: RecordKeys, metadata: RecordMetadata, body: ByteSource, options: SealStreamOptions = {}): Promise<Uint8Array> {
  return (await collect(sealStream(keys, metadata, body, options))).bytes;
}

export async function openToBytes(keys: RecordKeys, source: ByteSource, options: Parameters<typeof openStream>[2] = {}): Promise<{ metadata: RecordMetadata; body: Uint8Array }> {
  const opened = await openStream(keys, source, options);
  const { bytes } = await collect(opened.chunks);
  return { metadata: opened.metadata, body: bytes };
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = bytes.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

function describeValue(value: unknown): string {
  if (value instanceof Uint8Array) return `bytes ${toHex(value)}`;
  if (typeof value === 'object' && value !== null) return Object.keys(value).join(', ') ? `an object with ${Object.keys(value).join(', ')}` : 'an object';
  return String(value);
}

/** Runs `action` and returns the EhrVaultError it threw (asserting it threw one with `code`, when given). */
export async function caught(action: () => Promise<unknown>, code?: ErrorCode): Promise<EhrVaultError> {
  let error: unknown;
  let result: unknown;
  try {
    result = await action();
  } catch (e) {
    error = e;
  }
  if (error === undefined) expect.fail(`expected an EhrVaultError${code ? ` (${code})` : ''} but the call succeeded with ${describeValue(result)}`);
  expect(error).toBeInstanceOf(EhrVaultError);
  if (code !== undefined) expect((error as EhrVaultError).code).toBe(code);
  return error as EhrVaultError;
}

export function caughtSync(action: () => unknown, code?: ErrorCode): EhrVaultError {
  let error: unknown;
  let threw = false;
  let result: unknown;
  try {
    result = action();
  } catch (e) {
    threw = true;
    error = e;
  }
  if (!threw) expect.fail(`expected an EhrVaultError${code ? ` (${code})` : ''} but the call succeeded with ${describeValue(result)}`);
  expect(error).toBeInstanceOf(EhrVaultError);
  if (code !== undefined) expect((error as EhrVaultError).code).toBe(code);
  return error as EhrVaultError;
}

/** Index of the first occurrence of `needle` in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Header fields of a hand-built envelope (FORMAT.md §5); anything left out takes the writer's value. */
export interface SpecHeader {
  readonly magic?: Uint8Array;
  readonly version?: number;
  readonly algorithm?: number;
  readonly flags?: number;
  readonly chunkSize?: number;
  readonly metadataLength?: number;
  readonly reserved?: number;
  /** false: keep the commitment of the unmodified header (what someone without K_commit could do). */
  readonly recommit?: boolean;
}

/** The metadata block of FORMAT.md §6 around any JSON text (or raw bytes), zero-padded to 256 bytes. */
export function specMetadataBlock(json: string | Uint8Array): Uint8Array {
  const bytes = typeof json === 'string' ? utf8(json) : json;
  const block = new Uint8Array(Math.max(256, Math.ceil((4 + bytes.length) / 256) * 256));
  new DataView(block.buffer).setUint32(0, bytes.length);
  block.set(bytes, 4);
  return block;
}

/**
 * Builds an envelope by hand from docs/FORMAT.md §5–§7, independently of EnvelopeSealer, with any metadata
 * JSON or block and any header fields (the commitment recomputed, as a writer holding the keys would), so
 * tests can make authentic envelopes a correct writer refuses to write.
 */
export async function buildEnvelopeFromSpec(
  keys: Pick<RecordKeys, 'commitment' | 'encryption'>,
  metadata: string | Uint8Array,
  body: Uint8Array,
  chunkSize: number,
  noncePrefix: Uint8Array,
  fields: SpecHeader = {},
): Promise<Uint8Array> {
  const block = typeof metadata === 'string' ? specMetadataBlock(metadata) : metadata;
  const header = new Uint8Array(56);
  const view = new DataView(header.buffer);
  header.set(utf8('EHRV'), 0);
  header[4] = 2;
  header[5] = 1;
  view.setUint32(8, chunkSize);
  view.setUint32(12, block.length + 16);
  header.set(noncePrefix, 16);
  const original = header.slice(0, 24);
  if (fields.magic) header.set(fields.magic.subarray(0, 4), 0);
  if (fields.version !== undefined) header[4] = fields.version;
  if (fields.algorithm !== undefined) header[5] = fields.algorithm;
  if (fields.flags !== undefined) view.setUint16(6, fields.flags);
  if (fields.chunkSize !== undefined) view.setUint32(8, fields.chunkSize);
  if (fields.metadataLength !== undefined) view.setUint32(12, fields.metadataLength);
  if (fields.reserved !== undefined) header[23] = fields.reserved;
  const committed = fields.recommit === false ? original : header.slice(0, 24);
  header.set(new Uint8Array(await crypto.subtle.sign('HMAC', keys.commitment, committed)), 24);
  const seal = async (counter: number, last: boolean, plaintext: Uint8Array) => {
    const iv = new Uint8Array(12);
    iv.set(noncePrefix, 0);
    new DataView(iv.buffer).setUint32(7, counter);
    iv[11] = last ? 1 : 0;
    return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, keys.encryption, plaintext.slice()));
  };
  // Chunked by the writer's chunk size whatever the header claims, so a lying header is authentic.
  const chunks = Math.max(1, Math.ceil(body.length / chunkSize));
  const parts = [header, await seal(0, false, block)];
  for (let i = 0; i < chunks; i++) parts.push(await seal(i + 1, i === chunks - 1, body.subarray(i * chunkSize, (i + 1) * chunkSize)));
  return concatBytes(parts);
}
