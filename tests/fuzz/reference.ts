/**
 * Oracles written from docs/FORMAT.md (format 2) alone, not from src/core, used to check the real parsers
 * case by case: for any input they say which error code the spec requires, or what a successful parse
 * returns.
 */
import type { ErrorCode } from '../../src/core/index.js';

// ---------------------------------------------------------------------------------------------------------
// UTF-8 (RFC 3629, table 3-7 of Unicode): one scalar value in shortest form

/** Bytes a lead byte announces (FORMAT.md §9 step 11: 00–7F: 1, C2–DF: 2, E0–EF: 3, F0–F4: 4), or 0. */
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
// Object head fields (FORMAT.md §4.1, §9 steps 5–6)

export type ReferenceHead =
  | {
      readonly ok: true;
      readonly kind: 'data' | 'parity';
      readonly n: number;
      readonly p: number;
      readonly slot: number;
      readonly parallelism: number;
      readonly passes: number;
      readonly memoryKiB: number;
      readonly bodyLength: bigint;
      readonly check: Uint8Array;
      readonly parityAlgorithm: number;
    }
  | { readonly ok: false; readonly code: ErrorCode };

function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
}

function u64(bytes: Uint8Array, at: number): bigint {
  let value = 0n;
  for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(bytes[at + i]!);
  return value;
}

/** The 48 decrypted head-field bytes: version first (step 5), then every range (step 6). */
export function referenceHead(bytes: Uint8Array): ReferenceHead {
  if (bytes[0] !== 2) return { ok: false, code: 'FRAGMENT_UNSUPPORTED' };
  const kind = bytes[1]!;
  const n = u16(bytes, 2);
  const p = u16(bytes, 4);
  const slot = u16(bytes, 6);
  const kdf = bytes[8]!;
  const parallelism = bytes[9]!;
  const passes = u16(bytes, 10);
  const memoryKiB = u32(bytes, 12);
  const bodyLength = u64(bytes, 16);
  const parityAlgorithm = bytes[40]!;
  const reserved = bytes.subarray(41, 48).some((b) => b !== 0);
  const bad =
    kind > 1 ||
    n < 8 ||
    n > 64 ||
    p > 64 ||
    slot >= n + p ||
    kind !== (slot >= n ? 1 : 0) ||
    kdf !== 1 ||
    parallelism !== 1 ||
    passes < 1 ||
    passes > 16 ||
    memoryKiB < 8 ||
    memoryKiB > 262_144 ||
    bodyLength <= 52n ||
    bodyLength >= 2n ** 53n ||
    (p === 0 ? parityAlgorithm !== 0 : parityAlgorithm !== 1) ||
    reserved;
  if (bad) return { ok: false, code: 'FRAGMENT_MALFORMED' };
  return { ok: true, kind: kind === 0 ? 'data' : 'parity', n, p, slot, parallelism, passes, memoryKiB, bodyLength, check: bytes.slice(24, 40), parityAlgorithm };
}

// ---------------------------------------------------------------------------------------------------------
// Frame inside an unsealed body (FORMAT.md §8, §9 step 11), MAC not checked here

export interface ReferenceFrame {
  readonly own: string;
  readonly n: number;
  readonly i: number;
  readonly payloadLength: number;
  readonly next: string;
  readonly mac: Uint8Array;
  readonly prefixLength: number;
  /** True when every byte after the MAC is zero. */
  readonly zeroPadding: boolean;
}

/** Parses own ‖ n ‖ i ‖ length ‖ payload ‖ next ‖ mac ‖ padding from a body of B bytes; undefined: FRAGMENT_TAMPERED. */
export function referenceFrame(body: Uint8Array): ReferenceFrame | undefined {
  const B = body.length;
  if (B === 0) return undefined;
  const ownLength = leadLength(body[0]!);
  if (ownLength === 0 || ownLength + 12 > B) return undefined;
  const own = decodeScalar(body.subarray(0, ownLength));
  if (own === undefined) return undefined;
  const n = u16(body, ownLength);
  const i = u16(body, ownLength + 2);
  const length = u64(body, ownLength + 4);
  const prefixLength = ownLength + 12;
  if (BigInt(prefixLength) + length + 1n + 32n > BigInt(B)) return undefined;
  const payloadLength = Number(length);
  const at = prefixLength + payloadLength;
  const nextLength = leadLength(body[at]!);
  if (nextLength === 0 || at + nextLength + 32 > B) return undefined;
  const next = decodeScalar(body.subarray(at, at + nextLength));
  if (next === undefined) return undefined;
  const mac = body.slice(at + nextLength, at + nextLength + 32);
  const zeroPadding = body.subarray(at + nextLength + 32).every((b) => b === 0);
  return { own, n, i, payloadLength, next, mac, prefixLength, zeroPadding };
}

// ---------------------------------------------------------------------------------------------------------
// Chain over authentic frames (FORMAT.md §9 step 12)

export interface ChainFrame {
  readonly own: string;
  readonly next: string;
  readonly n: number;
  readonly i: number;
}

/** The code step 12 gives (frames indexed by slot), or undefined when the chain is the key's ring. */
export function referenceChain(keyChars: readonly string[], frames: readonly ChainFrame[]): { code: ErrorCode; position: number } | undefined {
  const n = keyChars.length;
  for (let i = 0; i < n; i++) {
    const f = frames[i]!;
    if (f.n !== n || f.i !== i || f.own !== keyChars[i]) return { code: 'CHAIN_BROKEN', position: i };
    if (f.next === keyChars[(i + 1) % n]) continue;
    const loops = keyChars.slice(0, i + 1).includes(f.next);
    return { code: loops ? 'CHAIN_LOOP' : 'CHAIN_BROKEN', position: i };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Envelope header (FORMAT.md §5, §9 step 13 after the commitment matched)

export type ReferenceHeader =
  | { readonly ok: true; readonly chunkSize: number; readonly metadataLength: number }
  | { readonly ok: false; readonly code: ErrorCode };

export function referenceParseHeader(bytes: Uint8Array): ReferenceHeader {
  if (bytes.length < 56) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  if (bytes[0] !== 0x45 || bytes[1] !== 0x48 || bytes[2] !== 0x52 || bytes[3] !== 0x56) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  if (bytes[4] !== 2 || bytes[5] !== 1 || bytes[6] !== 0 || bytes[7] !== 0) return { ok: false, code: 'ENVELOPE_UNSUPPORTED' };
  const chunkSize = u32(bytes, 8);
  const metadataLength = u32(bytes, 12);
  if (chunkSize < 64 || chunkSize > 16_777_216) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  const block = metadataLength - 16;
  if (block < 256 || block > 65_536 || block % 256 !== 0) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  if (bytes[23] !== 0) return { ok: false, code: 'ENVELOPE_MALFORMED' };
  return { ok: true, chunkSize, metadataLength };
}

// ---------------------------------------------------------------------------------------------------------
// Padmé (FORMAT.md §4.3), in BigInt

export function referencePadme(length: bigint): bigint {
  if (length < 2n) return length;
  const floorLog2 = (v: bigint) => BigInt(v.toString(2).length - 1);
  const e = floorLog2(length);
  const s = floorLog2(e) + 1n;
  const step = 1n << (e - s);
  return ((length + step - 1n) / step) * step;
}
