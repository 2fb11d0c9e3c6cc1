/** Shared helpers for the core unit tests (not a test file itself). */
import { expect } from 'vitest';
import {
  EhrVaultError,
  concatBytes,
  deriveRecordKeys,
  openStream,
  toHex,
  sealStream,
  type ByteSource,
  type ErrorCode,
  type RecordKeys,
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

export async function freshKeys(): Promise<{ recordKey: Uint8Array; keys: RecordKeys }> {
  const recordKey = randomKey();
  return { recordKey, keys: await deriveRecordKeys(recordKey) };
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

/**
 * Builds an envelope by hand from docs/FORMAT.md §3–§5, independently of EnvelopeSealer, with any metadata
 * JSON (so tests can make authentic envelopes that a version-1 writer would refuse to write).
 */
export async function buildEnvelopeFromSpec(keys: RecordKeys, metadataJson: string, body: Uint8Array, chunkSize: number, noncePrefix: Uint8Array): Promise<Uint8Array> {
  const json = utf8(metadataJson);
  const block = new Uint8Array(Math.ceil((4 + json.length) / 256) * 256);
  new DataView(block.buffer).setUint32(0, json.length);
  block.set(json, 4);
  const header = new Uint8Array(40);
  const view = new DataView(header.buffer);
  header.set(utf8('EHRV'), 0);
  header[4] = 1;
  header[5] = 1;
  view.setUint32(8, chunkSize);
  view.setUint32(12, block.length + 16);
  header.set(noncePrefix, 16);
  const commitment = new Uint8Array(await crypto.subtle.sign('HMAC', keys.commitment, header.slice(0, 24)));
  header.set(commitment.subarray(0, 16), 24);
  const seal = async (counter: number, last: boolean, plaintext: Uint8Array) => {
    const iv = new Uint8Array(12);
    iv.set(noncePrefix, 0);
    new DataView(iv.buffer).setUint32(7, counter);
    iv[11] = last ? 1 : 0;
    return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, keys.encryption, plaintext.slice()));
  };
  const chunks = Math.max(1, Math.ceil(body.length / chunkSize));
  const parts = [header, await seal(0, false, block)];
  for (let i = 0; i < chunks; i++) parts.push(await seal(i + 1, i === chunks - 1, body.subarray(i * chunkSize, (i + 1) * chunkSize)));
  return concatBytes(parts);
}
