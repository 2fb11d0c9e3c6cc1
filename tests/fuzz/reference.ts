/**
 * Oracles written from docs/FORMAT.md alone (not from src/core), used to check the real parsers case by
 * case: for any input they say which error code the spec requires, or what a successful parse returns.
 */
import type { ErrorCode } from '../../src/core/index.js';

// ---------------------------------------------------------------------------------------------------------
// UTF-8 (RFC 3629, table 3-7 of Unicode): one scalar value in shortest form

/** Bytes a lead byte announces (FORMAT.md §7: 00–7F: 1, C2–DF: 2, E0–EF: 3, F0–F4: 4), or 0. */
export function leadLength(lead: number): number {
  if (lead <= 0x7f) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The one Unicode scalar value `bytes` encode in shortest form, or undefined. */
export function decodeScalar(bytes: Uint8Array): string | undefined {
  const b0 = bytes[0];
  if (b0 === undefined || leadLength(b0) !== bytes.length) return undefined;
  const cont = (i: number, lo = 0x80, hi = 0xbf) => {
    const b = bytes[i]!;
    return b >= lo && b <= hi;
  };
  let cp: number;
  switch (bytes.length) {
    case 1:
      cp = b0;
      break;
    case 2:
      if (!cont(1)) return undefined;
      cp = ((b0 & 0x1f) << 6) | (bytes[1]! & 0x3f);
      break;
    case 3: {
      const lo = b0 === 0xe0 ? 0xa0 : 0x80;
      const hi = b0 === 0xed ? 0x9f : 0xbf;
      if (!cont(1, lo, hi) || !cont(2)) return undefined;
      cp = ((b0 & 0x0f) << 12) | ((bytes[1]! & 0x3f) << 6) | (bytes[2]! & 0x3f);
      break;
    }
    default: {
      const lo = b0 === 0xf0 ? 0x90 : 0x80;
      const hi = b0 === 0xf4 ? 0x8f : 0xbf;
      if (!cont(1, lo, hi) || !cont(2) || !cont(3)) return undefined;
      cp = ((b0 & 0x07) << 18) | ((bytes[1]! & 0x3f) << 12) | ((bytes[2]! & 0x3f) << 6) | (bytes[3]! & 0x3f);
    }
  }
  return String.fromCodePoint(cp);
}

// ---------------------------------------------------------------------------------------------------------
// Fragment frame (FORMAT.md §7, "Parsing a fragment")

const FIXED = 46;

export type ReferenceFragment =
  | {
      readonly ok: true;
      readonly indexChar: string;
      readonly nextChar: string;
      readonly n: number;
      readonly position: number;
      readonly payloadLength: number;
      readonly payloadOffset: number;
      readonly recordTag: Uint8Array;
      readonly headerMac: Uint8Array;
      readonly suffixLength: number;
    }
  | { readonly ok: false; readonly code: ErrorCode };

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u64(bytes: Uint8Array, at: number): bigint {
  let value = 0n;
  for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(bytes[at + i]!);
  return value;
}

export function referenceParseFragment(bytes: Uint8Array): ReferenceFragment {
  const total = bytes.length;
  if (total === 0) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  const own = leadLength(bytes[0]!);
  // Not even a whole index character at the front: it does not start with one.
  if (own === 0 || total < own) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  const indexChar = decodeScalar(bytes.subarray(0, own));
  if (indexChar === undefined) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  if (total < own + FIXED) return { ok: false, code: 'FRAGMENT_TRUNCATED' };
  if (bytes[own] !== 1 || bytes[own + 1] !== 0) return { ok: false, code: 'FRAGMENT_UNSUPPORTED' };
  const n = u16(bytes, own + 2);
  const position = u16(bytes, own + 4);
  const length = u64(bytes, own + 6);
  if (n < 8 || n > 64 || position >= n || length >= 2n ** 53n) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  const rest = BigInt(total) - (BigInt(own + FIXED) + length);
  if (rest < 1n) return { ok: false, code: 'FRAGMENT_TRUNCATED' };
  if (rest > 4n) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  const suffix = bytes.subarray(total - Number(rest));
  const announced = leadLength(suffix[0]!);
  if (announced > suffix.length) return { ok: false, code: 'FRAGMENT_TRUNCATED' };
  const nextChar = decodeScalar(suffix);
  if (nextChar === undefined) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  return {
    ok: true,
    indexChar,
    nextChar,
    n,
    position,
    payloadLength: Number(length),
    payloadOffset: own + FIXED,
    recordTag: bytes.slice(own + 14, own + 30),
    headerMac: bytes.slice(own + 30, own + 46),
    suffixLength: suffix.length,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Envelope header (FORMAT.md §3)

export type ReferenceHeader =
  | { readonly ok: true; readonly chunkSize: number; readonly metadataLength: number }
  | { readonly ok: false; readonly code: ErrorCode };

export function referenceParseHeader(bytes: Uint8Array): ReferenceHeader {
  if (bytes.length < 40) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  if (bytes[0] !== 0x45 || bytes[1] !== 0x48 || bytes[2] !== 0x52 || bytes[3] !== 0x56) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  if (bytes[4] !== 1 || bytes[5] !== 1 || bytes[6] !== 0 || bytes[7] !== 0) return { ok: false, code: 'ENVELOPE_UNSUPPORTED' };
  const chunkSize = ((bytes[8]! << 24) >>> 0) + (bytes[9]! << 16) + (bytes[10]! << 8) + bytes[11]!;
  const metadataLength = ((bytes[12]! << 24) >>> 0) + (bytes[13]! << 16) + (bytes[14]! << 8) + bytes[15]!;
  if (chunkSize < 64 || chunkSize > 16_777_216) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  const block = metadataLength - 16;
  if (block < 256 || block > 65_536 || block % 256 !== 0) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  if (bytes[23] !== 0) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  return { ok: true, chunkSize, metadataLength };
}

// ---------------------------------------------------------------------------------------------------------
// Merging (FORMAT.md §7, "Merging", steps 2–6) over frames whose authenticity is known

export interface ReferenceFrame {
  readonly indexChar: string;
  readonly nextChar: string;
  readonly n: number;
  readonly position: number;
  readonly auth: 'ok' | 'foreign' | 'tampered';
}

export type ReferenceMerge =
  | { readonly ok: true; readonly order: readonly number[] }
  | { readonly ok: false; readonly codes: readonly ErrorCode[]; readonly missing?: readonly string[]; readonly duplicates?: readonly string[] };

/**
 * The code(s) the spec requires. Where several fragments break the same step, the spec does not say which
 * one is reported, so every code one of them would give is acceptable.
 */
export function referenceMerge(keyChars: readonly string[], frames: readonly ReferenceFrame[]): ReferenceMerge {
  if (frames.length === 0) return { ok: false, codes: ['FRAGMENT_MISSING'], missing: keyChars };
  // Step 2: authenticate.
  const foreign = frames.filter((f) => f.auth === 'foreign').length;
  if (foreign === frames.length) return { ok: false, codes: ['WRONG_RECORD_KEY'] };
  if (foreign > 0) return { ok: false, codes: ['FRAGMENT_FOREIGN'] };
  if (frames.some((f) => f.auth === 'tampered')) return { ok: false, codes: ['FRAGMENT_TAMPERED'] };
  // Step 3: duplicates.
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const f of frames) {
    if (seen.has(f.indexChar)) duplicates.add(f.indexChar);
    seen.add(f.indexChar);
  }
  if (duplicates.size > 0) return { ok: false, codes: ['FRAGMENT_DUPLICATE'], duplicates: [...duplicates] };
  // Step 4: the chain the fragments describe, without the key.
  const n = frames[0]!.n;
  if (frames.some((f) => f.n !== n) || new Set(frames.map((f) => f.position)).size !== frames.length) return { ok: false, codes: ['CHAIN_BROKEN'] };
  const byChar = new Map(frames.map((f) => [f.indexChar, f]));
  const chainCodes = new Set<ErrorCode>();
  for (const f of frames) {
    const target = byChar.get(f.nextChar);
    if (target === undefined || target.position === (f.position + 1) % n) continue;
    chainCodes.add(target.position <= f.position ? 'CHAIN_LOOP' : 'CHAIN_BROKEN');
  }
  if (chainCodes.size > 0) return { ok: false, codes: [...chainCodes] };
  // Step 5: the sequence key.
  if (n !== keyChars.length) return { ok: false, codes: ['WRONG_SEQUENCE_KEY'] };
  for (const f of frames) {
    if (keyChars[f.position] !== f.indexChar || keyChars[(f.position + 1) % n] !== f.nextChar) return { ok: false, codes: ['WRONG_SEQUENCE_KEY'] };
  }
  // Step 6: missing fragments.
  const missing = keyChars.filter((c) => !byChar.has(c));
  if (missing.length > 0) return { ok: false, codes: ['FRAGMENT_MISSING'], missing };
  return { ok: true, order: keyChars.map((c) => frames.findIndex((f) => f.indexChar === c)) };
}
