/**
 * Reference READER of EHR Vault record format version 2, written from docs/FORMAT.md alone (not from
 * src/). It deliberately uses other primitives than the app: Node's own `node:crypto` (AES-128-GCM,
 * AES-128-CTR, HMAC-SHA-256, HKDF, SHA-256) and `@noble/hashes` for Argon2id (the app uses hash-wasm).
 *
 * Every function names the section of FORMAT.md it implements. Places where the text is ambiguous or
 * had to be guessed are marked `SPEC-GAP:`.
 *
 * Entry points: `openRecord` (§9), `checkSequenceKey` (§10), `decodeKeyText` (§11),
 * `decodeShareText` (§11.1), `decodeLocator` (§2.2), `objectName` (§2.3), `padme` (§4.3),
 * `deriveRecordKeyKeys` (§2), `deriveSequenceKeys` (§3).
 */
import { createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import webpDecoderFactory from '@jsquash/webp/codec/dec/webp_dec.js';
import { argon2id } from '@noble/hashes/argon2.js';

// ───────────────────────────────────────────── errors (§9.1) ─────────────────────────────────────────────

export type RefErrorCode =
  | 'SEQUENCE_KEY_INVALID'
  | 'KEY_TEXT_INVALID'
  | 'SHARE_TEXT_INVALID'
  | 'FRAGMENT_MISSING'
  | 'FRAGMENT_TRUNCATED'
  | 'WRONG_RECORD_KEY'
  | 'FRAGMENT_FOREIGN'
  | 'FRAGMENT_UNSUPPORTED'
  | 'FRAGMENT_MALFORMED'
  | 'CHAIN_BROKEN'
  | 'FRAGMENT_DUPLICATE'
  | 'WRONG_SEQUENCE_KEY'
  | 'FRAGMENT_TAMPERED'
  | 'CHAIN_LOOP'
  | 'ENVELOPE_TRUNCATED'
  | 'ENVELOPE_MALFORMED'
  | 'ENVELOPE_UNSUPPORTED'
  | 'METADATA_INVALID'
  | 'ENVELOPE_TRAILING_DATA';

/** §10: one problem of a sequence key. */
export type SequenceKeyIssue =
  | { readonly code: 'TOO_SHORT'; readonly length: number }
  | { readonly code: 'TOO_LONG'; readonly length: number }
  | { readonly code: 'WHITESPACE'; readonly positions: readonly number[] }
  | { readonly code: 'REPEATED'; readonly characters: readonly string[] }
  | { readonly code: 'DISALLOWED_CHARACTER'; readonly characters: readonly string[]; readonly kinds: readonly string[] };

export type KeyTextProblem = 'prefix' | 'length' | 'character' | 'checksum' | 'non-canonical';
export type ShareTextProblem = 'prefix' | 'locator' | 'key' | 'storage';

export interface RefErrorDetails {
  /** 0-based places in the input object list, ascending (§9). */
  sources?: number[];
  /** s_j of the blamed data slots (§9 steps 11, 13–15). */
  indexChars?: string[];
  /** characters of S without an object (§9 steps 2, 10). */
  missing?: string[];
  /** slots j without an object (§9 step 10). */
  positions?: number[];
  /** the lowest failing body chunk (§9 step 15). */
  chunk?: number;
  /** §10 */
  issues?: SequenceKeyIssue[];
  /** §11, §11.1 */
  problem?: KeyTextProblem | ShareTextProblem;
}

export class RefError extends Error {
  readonly code: RefErrorCode;
  readonly details: RefErrorDetails;
  constructor(code: RefErrorCode, details: RefErrorDetails = {}, message?: string) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'RefError';
    this.code = code;
    this.details = details;
  }
}

// ───────────────────────────────────────────── byte helpers ─────────────────────────────────────────────

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const u8 = (v: number): Buffer => Buffer.of(v);
const u16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
};
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};
const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};
/** Constant-time comparison of equal-length byte strings (different lengths: not equal). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);
const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Code points of a string (a lone surrogate counts as one). */
const codePoints = (s: string): string[] => Array.from(s);

// ─────────────────────────────────────── §2 keys from K alone ───────────────────────────────────────

export interface RecordKeyKeys {
  readonly names: Buffer; // K_names (32)
  readonly head: Buffer; // K_head (16)
}

/** §2: HKDF-SHA-256, IKM = K, salt = empty (RFC 5869: HashLen zero bytes), one info per key. */
export function deriveRecordKeyKeys(recordKey: Uint8Array): RecordKeyKeys {
  if (recordKey.length !== 16) throw new TypeError('record key must be 16 bytes');
  const derive = (info: string, length: number) => Buffer.from(hkdfSync('sha256', recordKey, Buffer.alloc(0), info, length));
  return {
    names: derive('ehr-vault/v2/object-names', 32),
    head: derive('ehr-vault/v2/object-head', 16),
  };
}

/** §4.4: K_parity = HKDF(K, salt empty, "ehr-vault/v2/parity", 16). */
export function deriveParityKey(recordKey: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', recordKey, Buffer.alloc(0), 'ehr-vault/v2/parity', 16));
}

// ───────────────────────────────────── §2.2 record locator ─────────────────────────────────────

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Values of base64url characters, or undefined for a character outside the alphabet. */
function base64urlValues(chars: readonly string[]): number[] | undefined {
  const out: number[] = [];
  for (const c of chars) {
    const v = c.length === 1 ? BASE64URL.indexOf(c) : -1;
    if (v < 0) return undefined;
    out.push(v);
  }
  return out;
}

/** Unpadded base64url values → bytes (whole 6-bit groups, trailing bits dropped). */
function base64urlBytes(values: readonly number[], byteLength: number): Buffer {
  const out = Buffer.alloc(byteLength);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (const v of values) {
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (at < byteLength) out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * §2.2: 22 characters of unpadded base64url → the 16-byte record id; undefined if not canonical.
 * SPEC-GAP: §2.2 says "the last character's 2 unused bits are zero", but 16 bytes in 22 base64
 * characters leave 22·6 − 128 = 4 unused bits (as §11 correctly says for the key). This reader
 * requires all 4 unused bits to be zero.
 */
export function decodeLocator(text: string): Buffer | undefined {
  const chars = codePoints(text);
  if (chars.length !== 22) return undefined;
  const values = base64urlValues(chars);
  if (!values) return undefined;
  if ((values[21]! & 0x0f) !== 0) return undefined;
  return base64urlBytes(values, 16);
}

/** §2.2 (writer direction, used by tests): 16 bytes → 22 characters. */
export function encodeLocator(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64url');
}

// ───────────────────────────────────── §2.3 object names ─────────────────────────────────────

const BASE32_LOWER = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding. */
function base32Lower(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = ((acc << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_LOWER[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32_LOWER[(acc << (5 - bits)) & 31];
  return out;
}

/** §2.3: base32_lower(first 20 bytes of HMAC(K_names, "EHRV2 object-name" ‖ 00 ‖ R ‖ u16 j)). */
export function objectName(recordKey: Uint8Array, recordId: Uint8Array, j: number): string {
  const { names } = deriveRecordKeyKeys(recordKey);
  return base32Lower(hmac(names, ascii('EHRV2 object-name'), u8(0), recordId, u16(j)).subarray(0, 20));
}

// ─────────────────────────────────── §3 keys from both secrets ───────────────────────────────────

export interface KdfParams {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

export interface SequenceKeys {
  readonly x: Buffer; // Argon2id output X (32)
  readonly enc: Buffer; // K_enc (16)
  readonly commit: Buffer; // K_commit (32)
  readonly frag: Buffer; // K_frag (32)
  readonly wrap: Buffer; // K_wrap (16)
  readonly check: Buffer; // K_check (32)
}

/** §3 step 2: Argon2id v0x13, tag 32 bytes, no secret, no associated data (via @noble/hashes). */
export function argon2idTag(password: Uint8Array, salt: Uint8Array, kdf: KdfParams, tagLength = 32): Buffer {
  const tag = argon2id(password, salt, {
    t: kdf.passes,
    m: kdf.memoryKiB,
    p: kdf.parallelism,
    dkLen: tagLength,
    version: 0x13,
  });
  return Buffer.from(tag);
}

/** RFC 5869 HKDF-Extract with HMAC-SHA-256. */
function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Buffer {
  return hmac(salt, ikm);
}

/** RFC 5869 HKDF-Expand with HMAC-SHA-256 (manual, so §3 does not share code with §2). */
function hkdfExpand(prk: Uint8Array, info: string, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = hmac(prk, previous, ascii(info), u8(i));
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** §3: X = Argon2id(S_bytes, KDF salt of the head); PRK = HKDF-Extract(salt = R, IKM = K ‖ X); Expand per info. */
export function deriveSequenceKeys(recordKey: Uint8Array, recordId: Uint8Array, sequenceKeyBytes: Uint8Array, kdf: KdfParams, kdfSalt: Uint8Array): SequenceKeys {
  if (kdfSalt.length !== 16) throw new TypeError('the KDF salt is 16 bytes');
  const x = argon2idTag(sequenceKeyBytes, kdfSalt, kdf);
  const prk = hkdfExtract(recordId, Buffer.concat([recordKey, x]));
  return {
    x,
    enc: hkdfExpand(prk, 'ehr-vault/v2/aes-128-gcm', 16),
    commit: hkdfExpand(prk, 'ehr-vault/v2/key-commitment', 32),
    frag: hkdfExpand(prk, 'ehr-vault/v2/fragment-mac', 32),
    wrap: hkdfExpand(prk, 'ehr-vault/v2/object-wrap', 16),
    check: hkdfExpand(prk, 'ehr-vault/v2/sequence-check', 32),
  };
}

/** §4.1: the head's check value = first 16 bytes of HMAC(K_check, "EHRV2 sequence-check"). */
export function sequenceCheckValue(kCheck: Uint8Array): Buffer {
  return hmac(kCheck, ascii('EHRV2 sequence-check')).subarray(0, 16);
}

// ───────────────────────────────────── §4.3 Padmé ─────────────────────────────────────

/** ⌊log₂ v⌋ for v ≥ 1, exact for any size (BigInt, no 32-bit bitwise operators). */
function floorLog2(v: bigint): number {
  return v.toString(2).length - 1;
}

/**
 * §4.3: Padmé(L) for L ≥ 2: E = ⌊log₂ L⌋, S = ⌊log₂ E⌋ + 1, z = E − S, ⌈L / 2^z⌉ · 2^z.
 * Works on integers of any size (BigInt).
 */
export function padme(length: bigint | number): bigint {
  const l = BigInt(length);
  if (l < 2n) throw new RangeError('Padmé is defined for L ≥ 2');
  const e = floorLog2(l);
  const s = floorLog2(BigInt(e)) + 1;
  const z = BigInt(e - s);
  const step = 1n << z;
  return ceilDiv(l, step) * step;
}

/** §4.3: B = 52 + ⌈Padmé(T) / n⌉. */
export function bodyLength(envelopeLength: bigint | number, n: number): bigint {
  return 52n + ceilDiv(padme(envelopeLength), BigInt(n));
}

// ───────────────────────────────────── §10 sequence key ─────────────────────────────────────

const WHITESPACE = /^[\p{White_Space}\p{Zs}\p{Zl}\p{Zp}]$/u;
const ALLOWED = /^[\p{L}\p{N}\p{P}\p{S}]$/u;
const DISALLOWED_KINDS: readonly [string, RegExp][] = [
  ['Cc', /^\p{Cc}$/u],
  ['Cf', /^\p{Cf}$/u],
  ['Mn', /^\p{Mn}$/u],
  ['Mc', /^\p{Mc}$/u],
  ['Me', /^\p{Me}$/u],
  ['Co', /^\p{Co}$/u],
  ['Cs', /^\p{Cs}$/u],
  ['Cn', /^\p{Cn}$/u],
];

/** General category of a character that §10 does not allow. */
function disallowedKind(c: string): string {
  for (const [kind, re] of DISALLOWED_KINDS) if (re.test(c)) return kind;
  // (unreachable: every code point has a general category, and L/N/P/S/Z are handled before)
  return 'Cn';
}

export interface CheckedSequenceKey {
  /** NFC string */
  readonly text: string;
  /** s_0 … s_{n−1} (code points of the NFC string) */
  readonly chars: readonly string[];
  /** UTF-8 of the NFC string (S_bytes, §3) */
  readonly bytes: Buffer;
}

/**
 * §10: normalise to NFC, count code points, and list every problem.
 * SPEC-GAP: the shape of `details.issues` is not specified beyond the code names and "positions",
 * "characters", "characters and kinds". Chosen here: `{ code, … }` objects, in the order the spec lists
 * them; positions are 0-based code-point indices of the NFC string; characters are listed once, in
 * order of first occurrence; kinds are two-letter general categories, parallel to `characters`.
 * SPEC-GAP: a whitespace character is reported as WHITESPACE only, not also as DISALLOWED_CHARACTER
 * (it is in Z or Cc, which §10 does not allow either).
 * SPEC-GAP: a repeated whitespace/disallowed character is also reported as REPEATED.
 * SPEC-GAP: "Unicode 15.1 or later" makes validity engine-dependent: a character unassigned (Cn) in
 * one engine's Unicode version but assigned (e.g. L or S) in a newer one gives a key that one reader
 * accepts and another rejects at step 1. This reader uses the running engine's tables
 * (process.versions.unicode; 17.0 on the Node 20 used here).
 */
export function sequenceKeyIssues(input: string): { key: CheckedSequenceKey; issues: SequenceKeyIssue[] } {
  const text = input.normalize('NFC');
  const chars = codePoints(text);
  const issues: SequenceKeyIssue[] = [];
  if (chars.length < 8) issues.push({ code: 'TOO_SHORT', length: chars.length });
  if (chars.length > 64) issues.push({ code: 'TOO_LONG', length: chars.length });
  const whitespace = chars.flatMap((c, i) => (WHITESPACE.test(c) ? [i] : []));
  if (whitespace.length > 0) issues.push({ code: 'WHITESPACE', positions: whitespace });
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const c of chars) {
    if (seen.has(c) && !repeated.includes(c)) repeated.push(c);
    seen.add(c);
  }
  if (repeated.length > 0) issues.push({ code: 'REPEATED', characters: repeated });
  const disallowed: string[] = [];
  for (const c of chars) {
    if (!WHITESPACE.test(c) && !ALLOWED.test(c) && !disallowed.includes(c)) disallowed.push(c);
  }
  if (disallowed.length > 0) issues.push({ code: 'DISALLOWED_CHARACTER', characters: disallowed, kinds: disallowed.map(disallowedKind) });
  return { key: { text, chars, bytes: Buffer.from(text, 'utf8') }, issues };
}

/** §10 / §9 step 1: the checked key, or SEQUENCE_KEY_INVALID with every issue. */
export function checkSequenceKey(input: string): CheckedSequenceKey {
  const { key, issues } = sequenceKeyIssues(input);
  if (issues.length > 0) throw new RefError('SEQUENCE_KEY_INVALID', { issues }, issues.map((i) => i.code).join(', '));
  return key;
}

// ───────────────────────────────────── §11 key text, §11.1 share text ─────────────────────────────────────

const KEY_TEXT_PREFIX = 'ehrvk1.';
const SHARE_TEXT_PREFIX = 'ehrv1:';
/** §11: every White_Space character and U+200B, U+200C, U+200D, U+FEFF, anywhere. */
const REMOVED_FROM_TEXTS = /\p{White_Space}|\u200B|\u200C|\u200D|\uFEFF/gu;

/**
 * Case-insensitive prefix match.
 * SPEC-GAP: "case-insensitively" is read as ASCII case folding only (so U+212A KELVIN SIGN, whose
 * toLowerCase() is "k", does not match the "k" of "ehrvk1.").
 */
function hasPrefixIgnoringAsciiCase(text: string, prefix: string): boolean {
  if (text.length < prefix.length) return false;
  const head = text.slice(0, prefix.length).replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
  return head === prefix;
}

/** §11: multiply by x in GF(2⁶) with x⁶ + x + 1. */
function gf64TimesX(s: number): number {
  const shifted = s << 1;
  return shifted & 0x40 ? shifted ^ 0x43 : shifted;
}

/** §11: the check value of 22 body values: s = 0; s ← x·s ⊕ vᵢ; check = x·s. */
export function keyTextCheckValue(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s = gf64TimesX(s) ^ v;
  return gf64TimesX(s);
}

/** §11 (writer direction, used by tests): K → "ehrvk1." ‖ base64url(K) ‖ check. */
export function encodeKeyText(recordKey: Uint8Array): string {
  const body = asBuffer(recordKey).toString('base64url');
  const values = base64urlValues(codePoints(body))!;
  return KEY_TEXT_PREFIX + body + BASE64URL[keyTextCheckValue(values)];
}

/**
 * §11: read a key text → the 16-byte record key, or KEY_TEXT_INVALID with `details.problem`.
 * SPEC-GAP: the order of the `checksum` and `non-canonical` checks is not stated; this reader
 * checks the checksum first (a typo in the last character is then reported as a typo).
 * SPEC-GAP: "exactly 23 characters" is counted in code points (an astral character counts once;
 * it then fails as `character`).
 */
export function decodeKeyText(input: string): Buffer {
  const text = input.replace(REMOVED_FROM_TEXTS, '');
  const fail = (problem: KeyTextProblem) => new RefError('KEY_TEXT_INVALID', { problem }, problem);
  if (!hasPrefixIgnoringAsciiCase(text, KEY_TEXT_PREFIX)) throw fail('prefix');
  const rest = codePoints(text.slice(KEY_TEXT_PREFIX.length));
  if (rest.length !== 23) throw fail('length');
  const values = base64urlValues(rest);
  if (!values) throw fail('character');
  let s = 0;
  for (const v of values) s = gf64TimesX(s) ^ v;
  if (s !== 0) throw fail('checksum');
  if ((values[21]! & 0x0f) !== 0) throw fail('non-canonical');
  return base64urlBytes(values.slice(0, 22), 16);
}

export interface ShareText {
  readonly locator: string;
  readonly recordId: Buffer;
  readonly recordKey: Buffer;
}

/**
 * §11.1: "ehrv1:" ‖ locator ‖ ":" ‖ key text.
 * SPEC-GAP: when there is no ":" after the locator, the rest is taken as the locator (so a bad
 * rest is `locator`, a good one is `key`, "absent").
 */
export function decodeShareText(input: string): ShareText {
  const fail = (problem: ShareTextProblem) => new RefError('SHARE_TEXT_INVALID', { problem }, problem);
  const text = input.replace(REMOVED_FROM_TEXTS, '').replace(/[.,;]+$/, '');
  if (!hasPrefixIgnoringAsciiCase(text, SHARE_TEXT_PREFIX)) throw fail('prefix');
  const rest = text.slice(SHARE_TEXT_PREFIX.length);
  const colon = rest.indexOf(':');
  const locator = colon < 0 ? rest : rest.slice(0, colon);
  const recordId = decodeLocator(locator);
  if (!recordId) throw fail('locator');
  if (colon < 0) throw fail('key');
  const keyText = rest.slice(colon + 1);
  if (!hasPrefixIgnoringAsciiCase(keyText, KEY_TEXT_PREFIX)) throw fail('key');
  return { locator, recordId, recordKey: decodeKeyText(keyText) };
}

/** One storage provider of a share link (§11.4). */
export interface ShareProvider {
  readonly storageId: string;
  readonly origin?: string;
}

/**
 * §11.2 and §11.4: the storage part of a share link (what follows the ":" after the key text), read from
 * the spec alone: providers separated by ","; each a storage id of 16–128 base64url characters, then
 * optionally "." and base64url (unpadded) of the UTF-8 origin of its presign service. Only the first may
 * lack an origin; an origin is https://host[:port] (http: only for localhost, 127.0.0.1, [::1]), exactly
 * as a URL's origin serialises. Slot j is read from provider j mod k.
 */
export function decodeShareStorage(part: string): ShareProvider[] {
  const fail = () => new RefError('SHARE_TEXT_INVALID', { problem: 'storage' }, 'storage');
  return part.split(',').map((provider, i) => {
    const dot = provider.indexOf('.');
    const storageId = dot < 0 ? provider : provider.slice(0, dot);
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(storageId)) throw fail();
    if (dot < 0) {
      if (i > 0) throw fail();
      return { storageId };
    }
    const encoded = provider.slice(dot + 1);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) throw fail();
    const bytes = Buffer.from(encoded, 'base64url');
    // Canonical base64url only: re-encoding gives the same text.
    if (bytes.toString('base64url') !== encoded) throw fail();
    const origin = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw fail();
    }
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (!(url.protocol === 'https:' || (url.protocol === 'http:' && local)) || url.origin !== origin) throw fail();
    return { storageId, origin };
  });
}

// ───────────────────────────────────── §4.1 object head ─────────────────────────────────────

export const HEAD_LENGTH = 92;
const HEAD_FIELDS_LENGTH = 64;

export interface Head {
  readonly version: number;
  readonly kind: number;
  readonly n: number;
  readonly p: number;
  readonly slot: number;
  readonly kdf: number;
  readonly parallelism: number;
  readonly passes: number;
  readonly memoryKiB: number;
  readonly bodyLength: bigint;
  readonly check: Buffer;
  readonly parityAlgorithm: number;
  readonly reserved: Buffer;
  readonly kdfSalt: Buffer;
}

/** §4.1: AAD of every head = "EHRV2 object-head" ‖ 00 ‖ R. */
export function headAad(recordId: Uint8Array): Buffer {
  return Buffer.concat([ascii('EHRV2 object-head'), u8(0), recordId]);
}

/** AES-128-GCM open (ciphertext ‖ 16-byte tag); undefined when authentication fails. */
function gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | undefined {
  if (sealed.length < 16) return undefined;
  const decipher = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = decipher.update(sealed.subarray(0, sealed.length - 16));
  try {
    return Buffer.concat([plain, decipher.final()]);
  } catch {
    plain.fill(0);
    return undefined;
  }
}

/** §4.1: open a head (nonce = bytes 0–12, ciphertext+tag = bytes 12–92); undefined if it does not authenticate. */
function openHead(kHead: Uint8Array, aad: Uint8Array, object: Uint8Array): Buffer | undefined {
  return gcmOpen(kHead, object.subarray(0, 12), object.subarray(12, HEAD_LENGTH), aad);
}

/** §4.1: the 64 bytes of head fields. */
export function parseHeadFields(f: Buffer): Head {
  if (f.length !== HEAD_FIELDS_LENGTH) throw new RangeError('head fields are 64 bytes');
  return {
    version: f[0]!,
    kind: f[1]!,
    n: f.readUInt16BE(2),
    p: f.readUInt16BE(4),
    slot: f.readUInt16BE(6),
    kdf: f[8]!,
    parallelism: f[9]!,
    passes: f.readUInt16BE(10),
    memoryKiB: f.readUInt32BE(12),
    bodyLength: f.readBigUInt64BE(16),
    check: Buffer.from(f.subarray(24, 40)),
    parityAlgorithm: f[40]!,
    reserved: Buffer.from(f.subarray(41, 48)),
    kdfSalt: Buffer.from(f.subarray(48, 64)),
  };
}

/**
 * §9 step 6: is an authentic version-2 head out of range?
 * "a parity algorithm other than 0 when p = 0 or other than 1 when p > 0" is malformed.
 */
function headMalformed(h: Head): boolean {
  return (
    h.kind > 1 ||
    h.n < 8 ||
    h.n > 64 ||
    h.p > 64 ||
    h.slot >= h.n + h.p ||
    h.kind !== (h.slot >= h.n ? 1 : 0) ||
    h.kdf !== 1 ||
    h.parallelism !== 1 ||
    h.passes < 1 ||
    h.passes > 16 ||
    h.memoryKiB < 8 ||
    h.memoryKiB > 262_144 ||
    h.bodyLength <= 52n ||
    h.bodyLength >= 2n ** 53n ||
    (h.p === 0 && h.parityAlgorithm !== 0) ||
    (h.p > 0 && h.parityAlgorithm !== 1) ||
    h.reserved.some((b) => b !== 0)
  );
}

/** §9 step 8: do two heads differ in any field but slot (n, p, KDF, P, T, Mem, B, check, parity algorithm, KDF salt)? */
function headsDiffer(a: Head, b: Head): boolean {
  return (
    a.n !== b.n ||
    a.p !== b.p ||
    a.kdf !== b.kdf ||
    a.parallelism !== b.parallelism ||
    a.passes !== b.passes ||
    a.memoryKiB !== b.memoryKiB ||
    a.bodyLength !== b.bodyLength ||
    !a.check.equals(b.check) ||
    a.parityAlgorithm !== b.parityAlgorithm ||
    !a.kdfSalt.equals(b.kdfSalt)
  );
}

// ───────────────────────────────────── §4.2 object body ─────────────────────────────────────

/** §4.2: counter block u16 j ‖ 00×6 ‖ u64 0. */
export function counterBlock(j: number): Buffer {
  const block = Buffer.alloc(16);
  block.writeUInt16BE(j, 0);
  return block;
}

/** §4.2: AES-128-CTR (128-bit big-endian counter, as OpenSSL's CTR mode) — encrypts and decrypts. */
export function ctrTransform(kWrap: Uint8Array, j: number, data: Uint8Array): Buffer {
  const cipher = createDecipheriv('aes-128-ctr', kWrap, counterBlock(j));
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

// ───────────────────────────────────── §4.4 parity algorithm 01 ─────────────────────────────────────

/** §4.4: product in GF(2⁸) modulo x⁸ + x⁴ + x³ + x² + 1 (0x11D), by shift and add (no tables). */
export function gf256Mul(a: number, b: number): number {
  let r = 0;
  while (b > 0) {
    if (b & 1) r ^= a;
    a <<= 1;
    if (a & 0x100) a ^= 0x11d;
    b >>= 1;
  }
  return r;
}

/** §4.4: a⁻¹ = a²⁵⁴ (a ≠ 0). */
export function gf256Inv(a: number): number {
  let r = 1;
  let base = a;
  for (let e = 254; e > 0; e >>= 1) {
    if (e & 1) r = gf256Mul(r, base);
    base = gf256Mul(base, base);
  }
  return r;
}

/** §4.4: row w of G = [I_n ; C], c(r, j) = ((n + r) ⊕ j)⁻¹ (so for w = n + r: (w ⊕ j)⁻¹). */
function generator(n: number, w: number): number[] {
  return Array.from({ length: n }, (_, j) => (w < n ? (j === w ? 1 : 0) : gf256Inv(w ^ j)));
}

/** Σ coefficients[i] · rows[i], byte by byte. */
function combine(coefficients: readonly number[], rows: readonly Uint8Array[]): Buffer {
  const out = Buffer.alloc(rows[0]!.length);
  coefficients.forEach((c, i) => {
    if (c === 0) return;
    const row = rows[i]!;
    for (let k = 0; k < out.length; k++) out[k]! ^= gf256Mul(c, row[k]!);
  });
  return out;
}

/** §4.4: parity row r (before sealing with K_parity) of the n stored data bodies. */
export function parityRow(n: number, r: number, dataBodies: readonly Uint8Array[]): Buffer {
  return combine(generator(n, n + r), dataBodies);
}

/**
 * §4.4: from the rows of slots `basis` (n of them, any order) compute the rows `wanted`: solve M·d = rows
 * for the data rows d by Gauss–Jordan elimination over GF(2⁸), then row w = G[w]·d.
 */
export function rebuildRows(n: number, basis: readonly number[], rows: readonly Uint8Array[], wanted: readonly number[]): Buffer[] {
  const m = basis.map((b) => generator(n, b));
  const inv: number[][] = basis.map((_, i) => Array.from({ length: n }, (_, k) => (k === i ? 1 : 0)));
  for (let col = 0; col < n; col++) {
    const pivot = m.findIndex((row, i) => i >= col && row[col] !== 0);
    if (pivot < 0) throw new Error('singular');
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    [inv[col], inv[pivot]] = [inv[pivot]!, inv[col]!];
    const scale = gf256Inv(m[col]![col]!);
    m[col] = m[col]!.map((v) => gf256Mul(v, scale));
    inv[col] = inv[col]!.map((v) => gf256Mul(v, scale));
    for (let i = 0; i < n; i++) {
      const f = m[i]![col]!;
      if (i === col || f === 0) continue;
      m[i] = m[i]!.map((v, k) => v ^ gf256Mul(f, m[col]![k]!));
      inv[i] = inv[i]!.map((v, k) => v ^ gf256Mul(f, inv[col]![k]!));
    }
  }
  const data = inv.map((coefficients) => combine(coefficients, rows));
  return wanted.map((w) => combine(generator(n, w), data));
}

// ───────────────────────────────────── §8 fragment frames ─────────────────────────────────────

export interface Frame {
  readonly own: Buffer; // UTF-8(s_i)
  readonly n: number;
  readonly i: number;
  readonly payload: Buffer;
  readonly next: Buffer; // UTF-8(s_{i+1})
  readonly mac: Buffer;
  readonly frameLength: number;
}

/** §9 step 11: length of a UTF-8 character from its lead byte (00–7F: 1, C2–DF: 2, E0–EF: 3, F0–F4: 4). */
function utf8CharLength(lead: number): number | undefined {
  if (lead <= 0x7f) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return undefined;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** §9 step 11: one character at `at`, which must decode to exactly one Unicode scalar value. */
function readChar(plain: Buffer, at: number): Buffer | undefined {
  if (at >= plain.length) return undefined;
  const length = utf8CharLength(plain[at]!);
  if (length === undefined || at + length > plain.length) return undefined;
  const bytes = plain.subarray(at, at + length);
  try {
    const decoded = STRICT_UTF8.decode(bytes);
    return codePoints(decoded).length === 1 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** §8: mac = HMAC(K_frag, "EHRV2 fragment" ‖ 00 ‖ u8 len(own) ‖ own ‖ u16 n ‖ u16 i ‖ u64 len ‖ u8 len(next) ‖ next). */
export function frameMac(kFrag: Uint8Array, own: Uint8Array, n: number, i: number, payloadLength: bigint, next: Uint8Array): Buffer {
  return hmac(kFrag, ascii('EHRV2 fragment'), u8(0), u8(own.length), own, u16(n), u16(i), u64(payloadLength), u8(next.length), next);
}

/**
 * §9 step 11: parse the decrypted body (frame ‖ zero padding) and check the mac; undefined on any
 * failure (parse, mac, non-zero padding).
 */
function parseFrame(kFrag: Uint8Array, plain: Buffer): Frame | undefined {
  const own = readChar(plain, 0);
  if (!own) return undefined;
  let at = own.length;
  if (at + 12 > plain.length) return undefined;
  const n = plain.readUInt16BE(at);
  const i = plain.readUInt16BE(at + 2);
  const payloadLength = plain.readBigUInt64BE(at + 4);
  at += 12;
  if (BigInt(at) + payloadLength > BigInt(plain.length)) return undefined;
  const payload = plain.subarray(at, at + Number(payloadLength));
  at += payload.length;
  const next = readChar(plain, at);
  if (!next) return undefined;
  at += next.length;
  if (at + 32 > plain.length) return undefined;
  const mac = plain.subarray(at, at + 32);
  at += 32;
  if (!sameBytes(mac, frameMac(kFrag, own, n, i, payloadLength, next))) return undefined;
  for (let k = at; k < plain.length; k++) if (plain[k] !== 0) return undefined;
  return { own, n, i, payload, next, mac, frameLength: at };
}

// ───────────────────────────────────── §5 envelope header ─────────────────────────────────────

export const ENVELOPE_HEADER_LENGTH = 56;

export interface EnvelopeHeader {
  readonly bytes: Buffer; // all 56 bytes: the AAD of every segment
  readonly magic: Buffer;
  readonly version: number;
  readonly algorithm: number;
  readonly flags: number;
  readonly chunkSize: number;
  readonly metadataSegmentLength: number;
  readonly noncePrefix: Buffer;
  readonly reserved: number;
  readonly commitment: Buffer;
}

/** §5: the 56-byte header. */
function parseEnvelopeHeader(bytes: Buffer): EnvelopeHeader {
  return {
    bytes,
    magic: bytes.subarray(0, 4),
    version: bytes[4]!,
    algorithm: bytes[5]!,
    flags: bytes.readUInt16BE(6),
    chunkSize: bytes.readUInt32BE(8),
    metadataSegmentLength: bytes.readUInt32BE(12),
    noncePrefix: bytes.subarray(16, 23),
    reserved: bytes[23]!,
    commitment: bytes.subarray(24, 56),
  };
}

/** §5: key commitment = HMAC(K_commit, header[0 .. 24)), all 32 bytes. */
export function keyCommitment(kCommit: Uint8Array, header: Uint8Array): Buffer {
  return hmac(kCommit, header.subarray(0, 24));
}

/** §5: Mseg − 16 is a multiple of 256 in 256 … 65,536. */
function metadataSegmentLengthValid(mseg: number): boolean {
  const block = mseg - 16;
  return block >= 256 && block <= 65_536 && block % 256 === 0;
}

// ───────────────────────────────────── §7 STREAM ─────────────────────────────────────

/** §7: nonce = nonce prefix (7) ‖ u32 counter ‖ u8 last. */
export function segmentNonce(prefix: Uint8Array, counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.set(prefix, 0);
  nonce.writeUInt32BE(counter, 7);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** §7: m = max(1, ⌈byteLength / C⌉). */
export function chunkCount(byteLength: bigint, chunkSize: bigint): bigint {
  const m = ceilDiv(byteLength, chunkSize);
  return m > 1n ? m : 1n;
}

/** §7: T = 56 + Mseg + byteLength + 16·m. */
export function envelopeLength(mseg: number, byteLength: bigint, chunkSize: number): bigint {
  return 56n + BigInt(mseg) + byteLength + 16n * chunkCount(byteLength, BigInt(chunkSize));
}

// ───────────────────────────────────── §6 metadata ─────────────────────────────────────

/**
 * §6: RFC 8259 JSON with "no duplicate member names", whose integers are "JSON numbers without fraction
 * or exponent". `JSON.parse` checks the syntax (and builds the value, `__proto__` as an own member);
 * this scanner then walks the (valid) text once, without recursion, to find duplicate member names at
 * any depth and to keep the lexeme of every number that is an object member, by its member path.
 * SPEC-GAP: whether duplicate names are forbidden only among the listed members, at the top level, or
 * at every depth (including members a reader ignores) is not stated; this reader rejects them at
 * every depth.
 */
function scanJson(text: string): { duplicate?: string; numbers: Map<string, string> } {
  interface Container {
    readonly isObject: boolean;
    readonly path: string | undefined; // member path ("\u0000"-joined), undefined inside arrays
    readonly names: Set<string>;
    expectName: boolean;
    member?: string;
  }
  const stack: Container[] = [];
  const numbers = new Map<string, string>();
  const memberPath = (): string | undefined => {
    const top = stack.at(-1);
    if (!top || !top.isObject || top.path === undefined || top.member === undefined) return top ? undefined : '';
    return top.path === '' ? top.member : `${top.path}\u0000${top.member}`;
  };
  const numberLexeme = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  let at = 0;
  while (at < text.length) {
    const c = text[at]!;
    if (c === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(at, end + 1)) as string;
      at = end + 1;
      const top = stack.at(-1);
      if (top?.isObject && top.expectName) {
        if (top.names.has(value)) return { duplicate: value, numbers };
        top.names.add(value);
        top.member = value;
        top.expectName = false;
      }
      continue;
    }
    if (c === '{' || c === '[') {
      stack.push({ isObject: c === '{', path: memberPath(), names: new Set(), expectName: c === '{' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack.at(-1)!;
      if (top.isObject) top.expectName = true;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      numberLexeme.lastIndex = at;
      const m = numberLexeme.exec(text)!;
      const path = memberPath();
      if (path !== undefined) numbers.set(path, m[0]);
      at += m[0].length;
      continue;
    }
    at++;
  }
  return { numbers };
}

class MetadataError extends Error {}

const MAX_SAFE = 2n ** 53n - 1n;
const PIXEL_FORMATS: Readonly<Record<string, { channels: bigint; bytesPerSample: bigint }>> = {
  GRAY8: { channels: 1n, bytesPerSample: 1n },
  RGB8: { channels: 3n, bytesPerSample: 1n },
  RGBA8: { channels: 4n, bytesPerSample: 1n },
  GRAY16: { channels: 1n, bytesPerSample: 2n },
  RGB16: { channels: 3n, bytesPerSample: 2n },
  RGBA16: { channels: 4n, bytesPerSample: 2n },
};
const MIME = /^[A-Za-z0-9_.+-]+\/[A-Za-z0-9_.+-]+$/;

/** §6: an integer member (no fraction, no exponent) in [min, max], exact for large values. */
function integerMember(value: unknown, lexeme: string | undefined, name: string, min: bigint, max: bigint): bigint {
  // §6: an integer is a number whose value is whole (1.0, 1e0 and -0 read as 1, 1 and 0); the lexeme is
  // used only to stay exact where it is a plain integer beyond 2^53.
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new MetadataError(`${name}: integer expected`);
  const exact = lexeme !== undefined && /^-?(?:0|[1-9][0-9]*)$/.test(lexeme) ? BigInt(lexeme) : BigInt(value);
  if (exact < min || exact > max) throw new MetadataError(`${name}: out of range`);
  return exact;
}

function stringMember(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new MetadataError(`${name}: string expected`);
  return value;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const member = (o: Record<string, unknown>, name: string): unknown => (Object.hasOwn(o, name) ? o[name] : undefined);

export interface Metadata {
  readonly json: Record<string, unknown>;
  readonly kind: 'image' | 'file';
  readonly byteLength: bigint;
  readonly bodyEncoding: 'identity' | 'deflate-raw' | 'filtered-deflate-raw' | 'webp-lossless';
  /** §6.4: for images, the declared size and format */
  readonly image?: { readonly width: number; readonly height: number; readonly pixelFormat: string };
  /** for images: width × height × channels × bytes per sample × frames */
  readonly pixelBytes?: bigint;
  /** §6.2: rows (height × frames), bytes per row, bytes per pixel */
  readonly rows?: { readonly count: number; readonly length: number; readonly bpp: number };
  /** §6.3: a compressed file's original length */
  readonly contentLength?: bigint;
}

/**
 * §6: the decrypted metadata block → validated metadata; MetadataError when it breaks §6.
 * SPEC-GAP: "zero bytes up to the next multiple of 256" — whether a block longer than the smallest
 * multiple of 256 that holds 4 + L (e.g. 512 bytes for L = 10) is acceptable is not said; this reader
 * accepts it (it checks only L ≤ block length − 4 and that the padding is zero).
 * SPEC-GAP: a UTF-8 BOM before the JSON is rejected (RFC 8259 §8.1 lets parsers ignore it).
 * §6: `filtered-deflate-raw` is for images only; a compressed file carries `contentLength` (checked below).
 */
function parseMetadataBlock(block: Buffer, chunkSize: number): Metadata {
  const length = block.readUInt32BE(0);
  if (length > block.length - 4) throw new MetadataError('L exceeds the block');
  for (let k = 4 + length; k < block.length; k++) if (block[k] !== 0) throw new MetadataError('non-zero padding');
  let text: string;
  try {
    text = STRICT_UTF8.decode(block.subarray(4, 4 + length));
  } catch {
    throw new MetadataError('JSON is not UTF-8');
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new MetadataError(`JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(root)) throw new MetadataError('JSON is not an object');
  const { duplicate, numbers } = scanJson(text);
  // §6: a member name given twice counts with its last value, as JSON.parse reads it.
  void duplicate;
  const lexeme = (...path: string[]) => numbers.get(path.join('\u0000'));

  const kind = stringMember(member(root, 'kind'), 'kind');
  if (kind !== 'image' && kind !== 'file') throw new MetadataError('kind');
  const name = stringMember(member(root, 'name'), 'name');
  if (name.length > 1024) throw new MetadataError('name too long');
  const mime = stringMember(member(root, 'mime'), 'mime');
  if (mime !== '' && (!MIME.test(mime) || mime.length > 255)) throw new MetadataError('mime');
  const byteLength = integerMember(member(root, 'byteLength'), lexeme('byteLength'), 'byteLength', 0n, MAX_SAFE);
  if (ceilDiv(byteLength, BigInt(chunkSize)) > 2n ** 32n - 2n) throw new MetadataError('byteLength: too many chunks');

  let bodyEncoding: Metadata['bodyEncoding'] = 'identity';
  const encoding = member(root, 'bodyEncoding');
  if (encoding !== undefined) {
    const e = stringMember(encoding, 'bodyEncoding');
    if (e !== 'identity' && e !== 'deflate-raw' && e !== 'filtered-deflate-raw' && e !== 'webp-lossless') throw new MetadataError('bodyEncoding');
    bodyEncoding = e;
    if (e === 'filtered-deflate-raw' && kind !== 'image') throw new MetadataError('row filters on a file record');
    if (e === 'webp-lossless' && kind !== 'image') throw new MetadataError('a WebP body on a file record');
  }
  // §6: contentLength iff a file record with a body encoding other than identity.
  const contentLengthValue = member(root, 'contentLength');
  let contentLength: bigint | undefined;
  if (kind === 'file' && bodyEncoding !== 'identity') {
    if (contentLengthValue === undefined) throw new MetadataError('a compressed file without contentLength');
    contentLength = integerMember(contentLengthValue, lexeme('contentLength'), 'contentLength', 0n, MAX_SAFE);
  } else if (contentLengthValue !== undefined) {
    throw new MetadataError('contentLength on an image or uncompressed file');
  }
  const createdAt = member(root, 'createdAt');
  if (createdAt !== undefined) integerMember(createdAt, lexeme('createdAt'), 'createdAt', 0n, MAX_SAFE);

  const image = member(root, 'image');
  let pixelBytes: bigint | undefined;
  let rows: Metadata['rows'];
  let imageInfo: Metadata['image'];
  if (kind === 'file') {
    if (image !== undefined) throw new MetadataError('a file record has no image');
  } else {
    if (!isPlainObject(image)) throw new MetadataError('image: object expected');
    const width = integerMember(member(image, 'width'), lexeme('image', 'width'), 'image.width', 1n, 1_048_576n);
    const height = integerMember(member(image, 'height'), lexeme('image', 'height'), 'image.height', 1n, 1_048_576n);
    const pixelFormat = stringMember(member(image, 'pixelFormat'), 'image.pixelFormat');
    const format = Object.hasOwn(PIXEL_FORMATS, pixelFormat) ? PIXEL_FORMATS[pixelFormat] : undefined;
    if (!format) throw new MetadataError('image.pixelFormat');
    const framesValue = member(image, 'frames');
    const frames = framesValue === undefined ? 1n : integerMember(framesValue, lexeme('image', 'frames'), 'image.frames', 1n, 65_536n);
    pixelBytes = width * height * format.channels * format.bytesPerSample * frames;
    if (bodyEncoding === 'identity' && byteLength !== pixelBytes) throw new MetadataError('byteLength ≠ pixel bytes');
    const bpp = format.channels * format.bytesPerSample;
    rows = { count: Number(height * frames), length: Number(width * bpp), bpp: Number(bpp) };
    imageInfo = { width: Number(width), height: Number(height), pixelFormat };
    // §6: webp-lossless only for GRAY8/RGB8/RGBA8, one frame, width and height ≤ 16,384.
    if (bodyEncoding === 'webp-lossless' && (!['GRAY8', 'RGB8', 'RGBA8'].includes(pixelFormat) || frames !== 1n || width > 16_384n || height > 16_384n)) {
      throw new MetadataError('webp-lossless needs an 8-bit single-frame image of at most 16384 × 16384');
    }
  }
  return { json: root, kind, byteLength, bodyEncoding, pixelBytes, rows, contentLength, ...(imageInfo ? { image: imageInfo } : {}) };
}

/**
 * §6.2 written from the table: each row is a type byte t then L bytes f; x = f + predictor (mod 256)
 * with a (left, bpp back), b (above), c (above-left) taken from restored bytes, 0 outside the image.
 * Throws RangeError (→ METADATA_INVALID) for t > 4.
 */
function unfilterRows(filtered: Buffer, rows: NonNullable<Metadata['rows']>): Buffer {
  const { count, length, bpp } = rows;
  const out = Buffer.alloc(count * length);
  const at = (y: number, i: number) => (y < 0 || i < 0 ? 0 : out[y * length + i]!);
  for (let y = 0; y < count; y++) {
    const t = filtered[y * (length + 1)]!;
    if (t > 4) throw new RangeError(`filter type ${t} in row ${y}`);
    for (let i = 0; i < length; i++) {
      const f = filtered[y * (length + 1) + 1 + i]!;
      const a = at(y, i - bpp);
      const b = at(y - 1, i);
      const c = at(y - 1, i - bpp);
      let predictor = 0;
      if (t === 1) predictor = a;
      else if (t === 2) predictor = b;
      else if (t === 3) predictor = Math.floor((a + b) / 2);
      else if (t === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * length + i] = (f + predictor) % 256;
    }
  }
  return out;
}

/**
 * §6.4: libwebp's decoder (the @jsquash/webp WASM build; RFC 9649's bitstream is not re-implemented
 * here), compiled from its file and instantiated once so decoding is synchronous like the rest of this
 * reader. Everything around the bitstream — the container, the sizes, the pixel mapping — is written
 * from §6.4's text.
 */
const webpDecoder = await webpDecoderFactory({
  noInitialRun: true,
  instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
    const module = new WebAssembly.Module(readFileSync(createRequire(import.meta.url).resolve('@jsquash/webp/codec/dec/webp_dec.wasm')));
    const instance = new WebAssembly.Instance(module, imports);
    done(instance);
    return instance.exports;
  },
} as Parameters<typeof webpDecoderFactory>[0]);

/** §6.4, step by step; RangeError (→ METADATA_INVALID) on the first rule broken. */
function decodeWebpLossless(body: Buffer, image: NonNullable<Metadata['image']>): Buffer {
  if (body.length < 20) throw new RangeError('shorter than the RIFF and chunk headers');
  if (body.toString('latin1', 0, 4) !== 'RIFF') throw new RangeError('no RIFF');
  if (body.readUInt32LE(4) !== body.length - 8) throw new RangeError('RIFF size ≠ body length − 8');
  if (body.toString('latin1', 8, 12) !== 'WEBP') throw new RangeError('no WEBP');
  if (body.toString('latin1', 12, 16) !== 'VP8L') throw new RangeError('the chunk is not VP8L');
  const s = body.readUInt32LE(16);
  if (20 + s + (s % 2) !== body.length) throw new RangeError('body length ≠ 20 + S + (S mod 2)');
  if (s < 5) throw new RangeError('S < 5');
  if (s % 2 === 1 && body[body.length - 1] !== 0) throw new RangeError('padding byte not zero');
  if (body[20] !== 0x2f) throw new RangeError('VP8L signature');
  // 14 bits width − 1, 14 bits height − 1, 1 bit alpha_is_used, 3 bits version, least significant first.
  const bits = body.readUInt32LE(21);
  const width = (bits & 0x3fff) + 1;
  const height = ((bits >>> 14) & 0x3fff) + 1;
  if (bits >>> 29 !== 0) throw new RangeError('VP8L version ≠ 0');
  if (width !== image.width || height !== image.height) throw new RangeError('VP8L size ≠ metadata size');
  let decoded: { data: Uint8ClampedArray; width: number; height: number } | null;
  try {
    decoded = webpDecoder.decode(new Uint8Array(body));
  } catch {
    decoded = null;
  }
  if (!decoded || decoded.width !== width || decoded.height !== height || decoded.data.length !== width * height * 4) throw new RangeError('the bitstream does not decode');
  const argb = decoded.data;
  const channels = image.pixelFormat === 'GRAY8' ? 1 : image.pixelFormat === 'RGB8' ? 3 : 4;
  const out = Buffer.alloc(width * height * channels);
  for (let k = 0; k < width * height; k++) {
    const [r, g, b, a] = [argb[4 * k]!, argb[4 * k + 1]!, argb[4 * k + 2]!, argb[4 * k + 3]!];
    if (channels !== 4 && a !== 255) throw new RangeError(`pixel ${k}: A ≠ 255 in ${image.pixelFormat}`);
    if (channels === 1) {
      if (g !== r || b !== r) throw new RangeError(`pixel ${k}: not grey`);
      out[k] = r;
    } else {
      out.set(channels === 3 ? [r, g, b] : [r, g, b, a], k * channels);
    }
  }
  return out;
}

// ───────────────────────────────────── §9 opening ─────────────────────────────────────

export interface OpenedRecord {
  readonly metadata: Record<string, unknown>;
  readonly body: Buffer;
  /** the decoded content (§6.2, §6.3: pixels or the original file) when the body is encoded and `inflate` is on */
  readonly content?: Buffer;
  /** the merged envelope, only with `keepEnvelope` (for comparing with a vector's `envelope`) */
  readonly envelope?: Buffer;
}

export interface OpenOptions {
  /**
   * §6: "a reader that inflates reports METADATA_INVALID" when a deflate-raw image body does not
   * inflate to exactly the pixel bytes. On by default.
   */
  readonly inflate?: boolean;
  /** return the merged envelope too (tests only); otherwise it is wiped */
  readonly keepEnvelope?: boolean;
}

interface Candidate {
  readonly source: number; // place in the input list
  readonly object: Buffer;
  readonly head: Head;
}

interface Placed {
  readonly source: number;
  readonly slot: number;
  readonly frame: Frame;
  /** envelope offset of the payload's first byte */
  readonly offset: bigint;
}

/** §9: "reports all of them (details.sources: … ascending)". */
const ascending = (xs: Iterable<number>): number[] => [...new Set(xs)].sort((a, b) => a - b);

/**
 * §9 steps 13–15: the data fragments whose payload holds any byte of envelope[from, to).
 * SPEC-GAP: step 15 says a chunk is held by "one fragment, or two when the chunk straddles a
 * boundary", but a chunk (C up to 16 MiB, writers 512 KiB) can span more than two fragments when a
 * fragment holds fewer than C bytes (any body over ~64 × 512 KiB / 2 … or small fragments); this
 * reader names every fragment whose payload intersects the chunk segment (ciphertext and tag).
 */
function fragmentsHolding(placed: readonly Placed[], chars: readonly string[], from: bigint, to: bigint): RefErrorDetails {
  const hit = placed.filter((p) => p.offset < to && p.offset + BigInt(p.frame.payload.length) > from);
  // (re-created objects, source −1, are never named in `sources`: §9 step 15)
  return { sources: ascending(hit.map((p) => p.source).filter((x) => x >= 0)), indexChars: [...hit].sort((a, b) => a.slot - b.slot).map((p) => chars[p.slot]!) };
}

/**
 * §9: open a record. Follows steps 1–15 in order and stops at the first failure.
 * `recordKey` K (16 bytes), `recordId` R (16 bytes), `sequenceKey` S (text as typed), `objects` in any order.
 */
export function openRecord(recordKey: Uint8Array, recordId: Uint8Array, sequenceKey: string, objects: readonly Uint8Array[], options: OpenOptions = {}): OpenedRecord {
  if (recordKey.length !== 16 || recordId.length !== 16) throw new TypeError('K and R are 16 bytes');
  const list = objects.map(asBuffer);

  // Step 1 (§10).
  const s = checkSequenceKey(sequenceKey);

  // Step 2.
  if (list.length === 0) throw new RefError('FRAGMENT_MISSING', { missing: [...s.chars], positions: s.chars.map((_, j) => j) }, 'no objects');

  // Step 3.
  const short = list.flatMap((o, k) => (o.length < HEAD_LENGTH ? [k] : []));
  if (short.length > 0) throw new RefError('FRAGMENT_TRUNCATED', { sources: short }, 'object shorter than its head');

  // Step 4 (§4.1). When no head opens, every object failed, so by §9's rule ("where a step finds
  // several failing objects, it reports all of them") WRONG_RECORD_KEY lists every source.
  const { head: kHead } = deriveRecordKeyKeys(recordKey);
  const aad = headAad(recordId);
  const opened = list.map((o) => openHead(kHead, aad, o));
  const foreign = opened.flatMap((h, k) => (h ? [] : [k]));
  if (foreign.length === list.length) throw new RefError('WRONG_RECORD_KEY', { sources: foreign }, 'no head opens');
  // §9 step 4 with parity: when an authentic version-2 head says p > 0, objects whose heads do not
  // open are set aside (absent) instead of FRAGMENT_FOREIGN.
  const withParity = opened.some((h) => h !== undefined && h[0] === 2 && h.readUInt16BE(4) > 0);
  if (foreign.length > 0 && !withParity) throw new RefError('FRAGMENT_FOREIGN', { sources: foreign }, 'heads that do not open');
  let candidates: Candidate[] = list.flatMap((object, source) => (opened[source] ? [{ source, object, head: parseHeadFields(opened[source]!) }] : []));

  // Step 5.
  const unsupported = candidates.filter((c) => c.head.version !== 2).map((c) => c.source);
  if (unsupported.length > 0) throw new RefError('FRAGMENT_UNSUPPORTED', { sources: unsupported }, 'head version ≠ 2');

  // Step 6.
  const malformed = candidates.filter((c) => headMalformed(c.head)).map((c) => c.source);
  if (malformed.length > 0) throw new RefError('FRAGMENT_MALFORMED', { sources: malformed }, 'head out of range');

  // Step 7. "Truncated objects are reported before objects with trailing bytes."
  // §9 step 7 with parity: objects of the wrong length are set aside.
  if (withParity) candidates = candidates.filter((c) => BigInt(c.object.length) === BigInt(HEAD_LENGTH) + c.head.bodyLength);
  if (candidates.length === 0) throw new RefError('FRAGMENT_TRUNCATED', { sources: list.map((_, k) => k) }, 'no object of the right length');
  const lengthExcess = candidates.map((c) => ({ source: c.source, excess: BigInt(c.object.length) - (BigInt(HEAD_LENGTH) + c.head.bodyLength) }));
  const cutShort = lengthExcess.filter((f) => f.excess < 0n).map((f) => f.source);
  if (cutShort.length > 0) throw new RefError('FRAGMENT_TRUNCATED', { sources: cutShort }, 'object shorter than 92 + B');
  const trailing = lengthExcess.filter((f) => f.excess > 0n).map((f) => f.source);
  if (trailing.length > 0) throw new RefError('FRAGMENT_MALFORMED', { sources: trailing }, 'object longer than 92 + B');

  // Step 8.
  // SPEC-GAP: which head the others are compared with is not stated; this reader takes the first
  // object's head (input order) as the reference and blames the objects whose heads differ from it.
  // (The vector error-different-protections.json expects the reference object to be blamed too:
  // sources [0, 6] where this reader says [6].)
  // SPEC-GAP: FRAGMENT_DUPLICATE blames every object whose slot is shared (the first of them too).
  const reference = candidates[0]!.head;
  const differing = candidates.filter((c) => headsDiffer(c.head, reference)).map((c) => c.source);
  if (differing.length > 0) throw new RefError('CHAIN_BROKEN', { sources: differing }, 'objects of different protections');
  const bySlot = new Map<number, Candidate[]>();
  for (const c of candidates) bySlot.set(c.head.slot, [...(bySlot.get(c.head.slot) ?? []), c]);
  const duplicates = [...bySlot.values()].filter((cs) => cs.length > 1).flat().map((c) => c.source);
  if (duplicates.length > 0) throw new RefError('FRAGMENT_DUPLICATE', { sources: ascending(duplicates) }, 'two objects with the same slot');

  // Step 9 (§3).
  const n = reference.n;
  if (s.chars.length !== n) throw new RefError('WRONG_SEQUENCE_KEY', {}, 'length of S ≠ n');
  const keys = deriveSequenceKeys(recordKey, recordId, s.bytes, {
    memoryKiB: reference.memoryKiB,
    passes: reference.passes,
    parallelism: reference.parallelism,
  }, reference.kdfSalt);
  if (!sameBytes(sequenceCheckValue(keys.check), reference.check)) throw new RefError('WRONG_SEQUENCE_KEY', {}, 'check value differs');

  // Step 10, with parity (§4.4): missing data slots are re-created from the n lowest remaining slots.
  const p = reference.p;
  const kParity = p > 0 ? deriveParityKey(recordKey) : undefined;
  const absent: number[] = [];
  for (let j = 0; j < n; j++) if (!bySlot.has(j)) absent.push(j);
  /** Re-creates `wanted` data slots from the n lowest slots of `pool` not in `avoid`; undefined if too few. */
  const rebuild = (pool: ReadonlyMap<number, Candidate>, wanted: readonly number[], avoid: ReadonlySet<number>): Map<number, Candidate> | undefined => {
    const basis = [...pool.keys()].filter((j) => !avoid.has(j) && !wanted.includes(j)).sort((a, b) => a - b).slice(0, n);
    if (basis.length < n || !kParity) return undefined;
    const rows = basis.map((j) => {
      const body = pool.get(j)!.object.subarray(HEAD_LENGTH);
      return j < n ? body : ctrTransform(kParity, j, body);
    });
    const out = rebuildRows(n, basis, rows, wanted);
    // a re-created object: a placeholder head and the body; `source` −1 (it is never blamed)
    return new Map(wanted.map((j, w) => [j, { source: -1, object: Buffer.concat([Buffer.alloc(HEAD_LENGTH), out[w]!]), head: { ...reference, slot: j, kind: 0 } }]));
  };
  const given = new Map([...bySlot].map(([j, cs]) => [j, cs[0]!] as const));
  let dataMap = new Map(given);
  const rebuiltAtStep10 = new Set<number>();
  if (absent.length > 0) {
    const made = p > 0 ? rebuild(given, absent, new Set()) : undefined;
    if (!made) {
      const details: RefErrorDetails = { missing: absent.map((j) => s.chars[j]!), positions: absent };
      throw new RefError('FRAGMENT_MISSING', details, p > 0 ? `data slots without an object, and fewer than n = ${n} objects to rebuild them` : 'data slots without an object');
    }
    for (const [j, c] of made) {
      dataMap.set(j, c);
      rebuiltAtStep10.add(j);
    }
  }

  // Steps 11–15 on one choice of data objects; with parity, step 15's alternatives re-run them.
  const attempt = (data: ReadonlyMap<number, Candidate>, rebuilt: ReadonlySet<number>, search = true): { result: OpenedRecord } => {
    const dataObjects: Candidate[] = [];
    for (let j = 0; j < n; j++) dataObjects.push(data.get(j)!);
    const parse = (c: Candidate, j: number) => parseFrame(keys.frag, ctrTransform(keys.wrap, j, c.object.subarray(HEAD_LENGTH)));
    const frames: (Frame | undefined)[] = dataObjects.map((c, j) => parse(c, j));
    const failing = dataObjects.flatMap((_, j) => (frames[j] ? [] : [j]));
    if (failing.length > 0) {
      // SPEC-GAP: the order of `indexChars` is not stated; here: by slot (`sources` by input place).
      const blame = new RefError('FRAGMENT_TAMPERED', { sources: ascending(failing.map((j) => dataObjects[j]!.source).filter((x) => x >= 0)), indexChars: failing.map((j) => s.chars[j]!) }, 'frame fails');
      // Step 11 with parity: the failing given objects are set aside; they and the slots re-created at
      // step 10 are re-created from the n lowest other objects.
      const damaged = failing.filter((j) => !rebuilt.has(j));
      if (p === 0) throw blame;
      if (damaged.length === 0) {
        // only re-created slots fail: leave out one given object at a time, in slot order
        if (search) {
          for (const x of [...given.keys()].sort((a, b) => a - b)) {
            const pool = new Map(given);
            pool.delete(x);
            const wantedX = Array.from({ length: n }, (_, j) => j).filter((j) => !pool.has(j));
            const made = rebuild(pool, wantedX, new Set([x]));
            if (!made) continue;
            const dataX = new Map(pool);
            for (const [j, c] of made) dataX.set(j, c);
            const framesOk = Array.from({ length: n }, (_, j) => parse(dataX.get(j)!, j));
            if (framesOk.every((f) => f !== undefined)) return attempt(dataX, new Set(wantedX), false);
          }
        }
        throw blame;
      }
      const wanted = [...new Set([...damaged, ...rebuilt])].sort((a, b) => a - b);
      const pool = new Map(given);
      for (const j of wanted) pool.delete(j);
      const made = rebuild(pool, wanted, new Set(damaged));
      if (!made) throw blame;
      for (const [j, c] of made) {
        dataObjects[j] = c;
        frames[j] = parse(c, j);
        if (!frames[j]) throw blame;
      }
    }
    return { result: afterFrames(dataObjects, frames as Frame[]) };
  };

  const afterFrames = (dataObjects: readonly Candidate[], frames: readonly Frame[]): OpenedRecord => {
  // Step 12: the chain, position by position. §12: "step 12 sets indexChars — the frame at fault"
  // (s_i of the failing position; no `sources`).
  const utf8 = (b: Buffer) => b.toString('utf8');
  for (let i = 0; i < n; i++) {
    const frame = frames[i]!;
    const blame: RefErrorDetails = { indexChars: [s.chars[i]!] };
    if (frame.n !== n || frame.i !== i) throw new RefError('CHAIN_BROKEN', blame, `frame at ${i} says n = ${frame.n}, i = ${frame.i}`);
    if (utf8(frame.own) !== s.chars[i]) throw new RefError('CHAIN_BROKEN', blame, `own character at ${i} ≠ s_${i}`);
    const next = utf8(frame.next);
    if (next !== s.chars[(i + 1) % n]) {
      let loops = false;
      for (let k = 0; k <= i; k++) if (utf8(frames[k]!.own) === next) loops = true;
      throw new RefError(loops ? 'CHAIN_LOOP' : 'CHAIN_BROKEN', blame, `next character at ${i} ≠ s_${(i + 1) % n}`);
    }
  }

  // Step 13 (§5): merge.
  // SPEC-GAP: the reader does not check that payload i spans envelope[⌊i·T/n⌋, ⌊(i+1)·T/n⌋) (§8):
  // §9 lists no such check, so a writer that splits elsewhere is read without complaint.
  const placed: Placed[] = [];
  let offset = 0n;
  for (let i = 0; i < n; i++) {
    placed.push({ source: dataObjects[i]!.source, slot: i, frame: frames[i]!, offset });
    offset += BigInt(frames[i]!.payload.length);
  }
  const envelope = Buffer.concat(frames.map((f) => f!.payload));
  const t = BigInt(envelope.length);
  if (t < 56n) throw new RefError('ENVELOPE_TRUNCATED', {}, 'T < 56');
  const header = parseEnvelopeHeader(envelope.subarray(0, ENVELOPE_HEADER_LENGTH));
  if (!sameBytes(keyCommitment(keys.commit, header.bytes), header.commitment)) {
    throw new RefError('FRAGMENT_TAMPERED', fragmentsHolding(placed, s.chars, 0n, 56n), 'key commitment differs');
  }
  if (!header.magic.equals(ascii('EHRV'))) throw new RefError('ENVELOPE_MALFORMED', {}, 'magic');
  if (header.version !== 2 || header.algorithm !== 1 || header.flags !== 0) throw new RefError('ENVELOPE_UNSUPPORTED', {}, 'version/algorithm/flags');
  if (header.chunkSize < 64 || header.chunkSize > 16_777_216 || !metadataSegmentLengthValid(header.metadataSegmentLength) || header.reserved !== 0) {
    throw new RefError('ENVELOPE_MALFORMED', {}, 'C, Mseg or reserved');
  }

  // Step 14 (§6, §7, §4.3).
  const mseg = header.metadataSegmentLength;
  if (t < 56n + BigInt(mseg)) throw new RefError('ENVELOPE_TRUNCATED', {}, 'T < 56 + Mseg');
  const block = gcmOpen(keys.enc, segmentNonce(header.noncePrefix, 0, false), envelope.subarray(56, 56 + mseg), header.bytes);
  if (!block) throw new RefError('FRAGMENT_TAMPERED', fragmentsHolding(placed, s.chars, 56n, 56n + BigInt(mseg)), 'metadata segment fails');
  let metadata: Metadata;
  try {
    metadata = parseMetadataBlock(block, header.chunkSize);
  } catch (e) {
    if (e instanceof MetadataError) throw new RefError('METADATA_INVALID', {}, e.message);
    throw e;
  } finally {
    block.fill(0);
  }
  const fixed = envelopeLength(mseg, metadata.byteLength, header.chunkSize);
  if (t < fixed) throw new RefError('ENVELOPE_TRUNCATED', {}, 'T < the length the metadata fixes');
  if (t > fixed) throw new RefError('ENVELOPE_TRAILING_DATA', {}, 'T > the length the metadata fixes');
  if (reference.bodyLength !== bodyLength(t, n)) throw new RefError('ENVELOPE_MALFORMED', {}, 'B ≠ 52 + ⌈Padmé(T)/n⌉');

  // Step 15 (§7): body chunks in order; the lowest failing one is reported.
  const c = header.chunkSize;
  const byteLength = Number(metadata.byteLength); // T = envelope.length fits in memory, so this is exact
  const m = Number(chunkCount(metadata.byteLength, BigInt(c)));
  const body = Buffer.alloc(byteLength);
  let at = 56 + mseg;
  for (let i = 0; i < m; i++) {
    const plainLength = i < m - 1 ? c : byteLength - c * (m - 1);
    const segment = envelope.subarray(at, at + plainLength + 16);
    const plain = gcmOpen(keys.enc, segmentNonce(header.noncePrefix, i + 1, i === m - 1), segment, header.bytes);
    if (!plain) {
      body.fill(0);
      throw new RefError('FRAGMENT_TAMPERED', { ...fragmentsHolding(placed, s.chars, BigInt(at), BigInt(at + segment.length)), chunk: i }, `chunk ${i} fails`);
    }
    plain.copy(body, i * c);
    plain.fill(0);
    at += segment.length;
  }
  if (!options.keepEnvelope) envelope.fill(0);

  // §6, §6.2, §6.3: an encoded body must inflate to exactly the length the metadata gives, and filtered
  // rows must carry filter types 0–4.
  // SPEC-GAP: this METADATA_INVALID belongs to step 14 by its code but needs the body of step 15; it
  // is checked here, after every chunk authenticated.
  let content: Buffer | undefined;
  if ((options.inflate ?? true) && metadata.bodyEncoding === 'webp-lossless') {
    // §6.4, §9 step 16: after every chunk authenticated.
    try {
      content = decodeWebpLossless(body, metadata.image!);
    } catch (e) {
      body.fill(0);
      throw new RefError('METADATA_INVALID', {}, e instanceof RangeError ? e.message : 'WebP body');
    }
  } else if ((options.inflate ?? true) && metadata.bodyEncoding !== 'identity') {
    const filtered = metadata.bodyEncoding === 'filtered-deflate-raw';
    const rows = metadata.rows;
    const expected = metadata.kind === 'file' ? metadata.contentLength! : filtered ? BigInt(rows!.count) * BigInt(1 + rows!.length) : metadata.pixelBytes!;
    let failure: string | undefined;
    if (expected < 2n ** 31n) {
      // (larger bodies cannot be inflated into one Buffer here and are not checked)
      try {
        const inflated = inflateRawSync(body, { maxOutputLength: Number(expected) + 1 });
        if (BigInt(inflated.length) !== expected) failure = 'body does not inflate to the length of §6';
        else content = filtered ? unfilterRows(inflated, rows!) : inflated;
      } catch (e) {
        failure = e instanceof RangeError ? e.message : 'body does not inflate';
      }
    }
    if (failure !== undefined) {
      body.fill(0);
      content?.fill(0);
      throw new RefError('METADATA_INVALID', {}, failure);
    }
  }

  return { metadata: metadata.json, body, ...(content ? { content } : {}), ...(options.keepEnvelope ? { envelope } : {}) };
  };

  try {
    return attempt(dataMap, rebuiltAtStep10).result;
  } catch (first) {
    // §9 step 15 with parity: leave out one object at a time (named data slots not re-created, then —
    // if a named slot was re-created — every other object given, in slot order) and try again.
    // (steps 13–15 only: a failure of step 11 has already used parity)
    if (p === 0 || !(first instanceof RefError) || first.code !== 'FRAGMENT_TAMPERED' || first.message === 'frame fails') throw first;
    const named = (first.details.indexChars ?? []).map((c) => s.chars.indexOf(c));
    const order = named.filter((j) => !rebuiltAtStep10.has(j) && given.has(j));
    if (named.some((j) => rebuiltAtStep10.has(j))) for (const j of [...given.keys()].sort((a, b) => a - b)) if (!order.includes(j)) order.push(j);
    for (const x of order) {
      const pool = new Map(given);
      pool.delete(x);
      const wanted = Array.from({ length: n }, (_, j) => j).filter((j) => !pool.has(j));
      const made = wanted.length > 0 ? rebuild(pool, wanted, new Set([x])) : new Map<number, Candidate>();
      if (!made) continue;
      dataMap = new Map(pool);
      for (const [j, c] of made) dataMap.set(j, c);
      try {
        return attempt(dataMap, new Set(wanted)).result;
      } catch {
        /* next */
      }
    }
    throw first;
  }
}
