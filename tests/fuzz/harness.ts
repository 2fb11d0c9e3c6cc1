/**
 * Shared machinery for the format fuzzers (not a test file itself).
 *
 * - How many cases: FUZZ_RUNS (runs per property, default 100 so that `npm test` stays short; sync parsers run 25× that), FUZZ_SEED
 *   (replay a campaign; fast-check prints the seed and path of any failure), FUZZ_CASE_TIMEOUT_MS
 *   (hang detector per case, default 20 s), FUZZ_MAX_ALLOC_BYTES (largest single buffer a case may
 *   allocate, default 64 MiB).
 * - Every case runs under an allocation guard: `new Uint8Array(n)` / `new ArrayBuffer(n)` with n above the
 *   cap throws, so a length field that drives an allocation before the data is checked fails the case
 *   instead of eating the machine.
 * - Outcomes are checked by one oracle: an `EhrVaultError` whose `code` is in the known set and in the
 *   target's allowed set, or a success the caller explicitly expects. Anything else is a bug.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { EhrVaultError, type ErrorCode } from '../../src/core/index.js';
import { ALL_ERROR_CODES } from '../unit/core/helpers.js';

function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export const FUZZ_RUNS = envInteger('FUZZ_RUNS', 100);
export const FUZZ_SEED = process.env.FUZZ_SEED ? envInteger('FUZZ_SEED', 1) : undefined;
export const CASE_TIMEOUT_MS = envInteger('FUZZ_CASE_TIMEOUT_MS', 20_000);
export const MAX_ALLOC_BYTES = envInteger('FUZZ_MAX_ALLOC_BYTES', 64 * 1024 * 1024);

/** fast-check parameters for a property worth `weight` × FUZZ_RUNS cases. */
export function runs(weight = 1): { numRuns: number; seed?: number } {
  return { numRuns: Math.max(1, Math.round(FUZZ_RUNS * weight)), ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}) };
}

/** Vitest timeout for a property of `weight` × FUZZ_RUNS cases that each take about `perCaseMs`. */
export function timeoutFor(weight: number, perCaseMs: number): number {
  return Math.max(60_000, Math.round(FUZZ_RUNS * weight * perCaseMs * 4));
}

// ---------------------------------------------------------------------------------------------------------
// Case counting (printed per target at the end of each file)

const counts = new Map<string, Map<string, number>>();
const started = Date.now();

/** Counts one case of `target`, by outcome ('ok' or the error code), so the summary shows which paths were reached. */
export function count(target: string, outcome: Outcome<unknown> | string = 'case'): void {
  const label = typeof outcome === 'string' ? outcome : outcome.ok ? 'ok' : outcome.error instanceof EhrVaultError ? outcome.error.code : 'untyped';
  const byLabel = counts.get(target) ?? new Map<string, number>();
  byLabel.set(label, (byLabel.get(label) ?? 0) + 1);
  counts.set(target, byLabel);
}

export function casesRun(target: string): number {
  return [...(counts.get(target)?.values() ?? [])].reduce((a, b) => a + b, 0);
}

export function summary(file: string): string {
  const seed = FUZZ_SEED !== undefined ? `FUZZ_SEED=${FUZZ_SEED}` : 'random seed (fast-check prints it on failure)';
  const lines = [`[fuzz] ${file}: FUZZ_RUNS=${FUZZ_RUNS}, ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`];
  let total = 0;
  for (const target of [...counts.keys()].sort()) {
    const n = casesRun(target);
    total += n;
    const labels = [...counts.get(target)!].filter(([label]) => label !== 'case').sort((a, b) => b[1] - a[1]);
    lines.push(`  ${target.padEnd(24)} ${String(n).padStart(7)} cases${labels.length ? `  (${labels.map(([l, c]) => `${l} ${c}`).join(', ')})` : ''}`);
  }
  lines.push(`  ${'total'.padEnd(24)} ${String(total).padStart(7)} cases`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Allocation guard

export class AllocationLimitError extends Error {
  constructor(what: string, bytes: number) {
    super(`unbounded allocation: ${what}(${bytes}) exceeds the fuzz cap of ${MAX_ALLOC_BYTES} bytes; a length read from untrusted input sized a buffer before the data was checked`);
    this.name = 'AllocationLimitError';
  }
}

const OriginalUint8Array = globalThis.Uint8Array;
const OriginalArrayBuffer = globalThis.ArrayBuffer;
let guardDepth = 0;

function guarded<T extends abstract new (...args: never[]) => unknown>(original: T, what: string): T {
  return new Proxy(original, {
    construct(target, args: unknown[], newTarget) {
      const [first] = args;
      if (typeof first === 'number' && first > MAX_ALLOC_BYTES) throw new AllocationLimitError(what, first);
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
}

/**
 * Replaces the global Uint8Array and ArrayBuffer constructors by guarded proxies (instanceof, statics and
 * subclasses keep working). Call the returned function to restore them.
 */
export function installAllocationGuard(): () => void {
  if (guardDepth++ === 0) {
    globalThis.Uint8Array = guarded(OriginalUint8Array, 'new Uint8Array');
    globalThis.ArrayBuffer = guarded(OriginalArrayBuffer, 'new ArrayBuffer');
  }
  return () => {
    if (--guardDepth === 0) {
      globalThis.Uint8Array = OriginalUint8Array;
      globalThis.ArrayBuffer = OriginalArrayBuffer;
    }
  };
}

// ---------------------------------------------------------------------------------------------------------
// Outcomes and the oracle

const KNOWN_CODES: ReadonlySet<string> = new Set(ALL_ERROR_CODES);

export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

class CaseTimeoutError extends Error {
  constructor() {
    super(`the case did not finish within ${CASE_TIMEOUT_MS} ms (hang?)`);
    this.name = 'CaseTimeoutError';
  }
}

/** Runs one case to completion (or the hang detector), never throwing. */
export async function settle<T>(action: () => Promise<T> | T): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeoutError()), CASE_TIMEOUT_MS);
  });
  try {
    const value = await Promise.race([Promise.resolve().then(action), watchdog]);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof CaseTimeoutError) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

export function settleSync<T>(action: () => T): Outcome<T> {
  try {
    return { ok: true, value: action() };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeUntyped(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ''}`;
  return `a thrown ${typeof error}: ${String(error)}`;
}

/** The typed-error contract: an EhrVaultError with a known, allowed code, a hint and details. */
export function expectTypedError(outcome: Outcome<unknown>, allowed: readonly ErrorCode[], context = ''): EhrVaultError {
  if (outcome.ok) expect.fail(`expected a typed error${context ? ` (${context})` : ''}, but the call succeeded`);
  const { error } = outcome;
  if (!(error instanceof EhrVaultError)) expect.fail(`untyped exception${context ? ` (${context})` : ''}: ${describeUntyped(error)}`);
  // Checked without expect() on the hot path; each failure names what is wrong.
  if (!KNOWN_CODES.has(error.code)) expect.fail(`unknown error code ${error.code}${context ? ` (${context})` : ''}`);
  if (!allowed.includes(error.code as ErrorCode)) expect.fail(`${error.code} is not an expected code here${context ? ` (${context})` : ''}; allowed: ${allowed.join(', ')}; message: ${error.message}`);
  if (typeof error.hint !== 'string' || error.hint.length === 0) expect.fail(`${error.code} has no hint`);
  if (typeof error.details !== 'object' || error.details === null) expect.fail(`${error.code} has no details object`);
  return error as EhrVaultError;
}

// ---------------------------------------------------------------------------------------------------------
// Error code families

/** What judging one authentic head may report (FORMAT.md §9 steps 5–6). */
export const HEAD_CODES: readonly ErrorCode[] = ['FRAGMENT_UNSUPPORTED', 'FRAGMENT_MALFORMED'];

/**
 * What a cloud, a network or a mix-up of objects can make openRecord report (FORMAT.md §9 steps 2–4 and
 * 7–11): nobody without the keys can make an authentic head out of range, an authentic frame chained
 * wrongly or an authentic envelope that is malformed.
 */
export const CLOUD_CODES: readonly ErrorCode[] = [
  'FRAGMENT_MISSING',
  'FRAGMENT_TRUNCATED',
  'WRONG_RECORD_KEY',
  'FRAGMENT_FOREIGN',
  'FRAGMENT_MALFORMED',
  'CHAIN_BROKEN',
  'FRAGMENT_DUPLICATE',
  'WRONG_SEQUENCE_KEY',
  'FRAGMENT_TAMPERED',
];

/** What decrypting an envelope may report (FORMAT.md §5–§7). */
export const ENVELOPE_CODES: readonly ErrorCode[] = ['ENVELOPE_MALFORMED', 'ENVELOPE_UNSUPPORTED', 'ENVELOPE_TAMPERED', 'ENVELOPE_TRUNCATED', 'ENVELOPE_TRAILING_DATA', 'METADATA_INVALID'];

/**
 * What openRecord may report at all (§9.1, reading side). ENVELOPE_TAMPERED never surfaces: after the
 * frames authenticated, envelope damage is blamed on fragments as FRAGMENT_TAMPERED (§9 steps 13–15).
 */
export const OPEN_RECORD_CODES: readonly ErrorCode[] = [
  ...CLOUD_CODES,
  'FRAGMENT_UNSUPPORTED',
  'CHAIN_LOOP',
  'ENVELOPE_MALFORMED',
  'ENVELOPE_UNSUPPORTED',
  'ENVELOPE_TRUNCATED',
  'ENVELOPE_TRAILING_DATA',
  'METADATA_INVALID',
];

// ---------------------------------------------------------------------------------------------------------
// Small byte tools

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hexOf(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Order-insensitive identity of a list of byte strings (duplicates counted). */
export function multisetKey(list: readonly Uint8Array[]): string {
  return list.map(hexOf).sort().join(',');
}

/** Copies `bytes` into a larger buffer at `offset`, so parsers see a view with a non-zero byteOffset. */
export function embedAt(bytes: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(offset + bytes.length + 7);
  backing.fill(0xee);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

/** Values at the edges of u8/u16/u32/u53/u64 fields. */
export const EDGE_U64: readonly bigint[] = [
  0n,
  1n,
  7n,
  8n,
  63n,
  64n,
  65n,
  255n,
  256n,
  65_535n,
  65_536n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 52n,
  2n ** 53n - 2n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n,
  2n ** 64n - 2n,
  2n ** 64n - 1n,
];

export const edgeU64Arb = fc.oneof(fc.constantFrom(...EDGE_U64), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 4096n }));
export const edgeU32Arb = fc.oneof(fc.constantFrom(0, 1, 15, 16, 63, 64, 65, 255, 256, 271, 272, 273, 528, 65_551, 65_552, 65_553, 524_288, 16_777_215, 16_777_216, 16_777_217, 2 ** 31, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 }));
export const edgeU16Arb = fc.oneof(fc.constantFrom(0, 1, 2, 7, 8, 9, 63, 64, 65, 255, 256, 32_768, 65_534, 65_535), fc.nat({ max: 65_535 }));
export const edgeU8Arb = fc.oneof(fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xfe, 0xff), fc.nat({ max: 255 }));

/**
 * UTF-8 byte strings of 1–4 bytes that may stand where an index character goes in a frame: valid characters of every
 * width, and the classic invalid forms (lone continuation, overlong, surrogate, above U+10FFFF, cut short,
 * two characters).
 */
export const INDEX_CHAR_BYTES: readonly (readonly number[])[] = [
  [0x61],
  [0x00],
  [0x20],
  [0x7f],
  [0xc3, 0xa9], // é
  [0xe4, 0xb8, 0xad], // 中
  [0xf0, 0x9f, 0x98, 0x80], // 😀
  [0x80], // lone continuation byte
  [0xbf],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf], // overlong
  [0xe0, 0x80, 0x80], // overlong 3-byte
  [0xed, 0xa0, 0x80], // UTF-16 surrogate U+D800
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80], // invalid lead
  [0xff],
  [0xc3], // cut short
  [0xe4, 0xb8],
  [0xf0, 0x9f, 0x98],
  [0x61, 0x62], // two characters
  [0xc3, 0xa9, 0x61],
  [0x61, 0xf0, 0x9f, 0x98],
];
