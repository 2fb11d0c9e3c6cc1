import { InputInvalidError } from './errors.js';
import { loadGf256Kernel, loadResidentRows, type Gf256Kernel } from './gf256-simd.js';

/**
 * Parity algorithm `01` (FORMAT.md §4.4): a systematic Reed–Solomon erasure code over GF(2⁸) with a
 * Cauchy parity matrix. The field is GF(2)[x] / (x⁸ + x⁴ + x³ + x² + 1) (0x11D); bytes are field
 * elements, bit i is the coefficient of xⁱ. Parity row r (0 ≤ r < p) over data rows j (0 ≤ j < n):
 *
 *     c[r][j] = 1 / ((n + r) ⊕ j)          parity_r[k] = ⊕_j c[r][j] · data_j[k]
 *
 * Every square sub-matrix of a Cauchy matrix is invertible, so the code [I; C] is MDS: any n of the n + p
 * rows give back all of them. Pure TypeScript (no dependency), the same in Node, Workers and the page.
 *
 * The byte work runs in a WebAssembly SIMD kernel (gf256-simd.ts) where the engine has one, else in the
 * product-table loop below; both give the same bytes (tests/unit/core/gf256-simd.test.ts).
 */
const POLY = 0x11d;
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    LOG[v] = i;
    v <<= 1;
    if (v & 0x100) v ^= POLY;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

/** 256 × 256 products: row c is multiplication by c (64 KiB, built once). */
const MUL = new Uint8Array(256 * 256);
for (let a = 1; a < 256; a++) for (let b = 1; b < 256; b++) MUL[a * 256 + b] = EXP[LOG[a]! + LOG[b]!]!;

export function gfMul(a: number, b: number): number {
  return MUL[(a << 8) | b]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError('0 has no inverse in GF(2^8)');
  return EXP[255 - LOG[a]!]!;
}

/** The most rows the code is defined for: n + p ≤ 128 keeps every Cauchy point a distinct byte. */
export const RS_MAX_ROWS = 128;

function checkShape(n: number, p: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(p) || n < 1 || p < 0 || n + p > RS_MAX_ROWS) throw new InputInvalidError('Reed–Solomon needs 1 ≤ n and n + p ≤ 128.', { n, p });
}

/** Row `row` of the generator matrix [I_n; C] (length n). */
export function generatorRow(n: number, p: number, row: number): Uint8Array {
  checkShape(n, p);
  const out = new Uint8Array(n);
  if (row < n) out[row] = 1;
  else for (let j = 0; j < n; j++) out[j] = gfInv(row ^ j);
  return out;
}

/** out ⊕= c · input, byte by byte. */
function mulAdd(out: Uint8Array, input: Uint8Array, c: number): void {
  if (c === 0) return;
  const length = Math.min(out.length, input.length);
  if (c === 1) {
    for (let k = 0; k < length; k++) out[k]! ^= input[k]!;
    return;
  }
  // One 256-byte row of the product table: a small, monomorphic lookup the JIT keeps in cache.
  const row = MUL.subarray(c << 8, (c << 8) + 256);
  for (let k = 0; k < length; k++) out[k] = out[k]! ^ row[input[k]!]!;
}

/** The p parity rows of n equally long data rows. */
export function rsEncode(data: readonly Uint8Array[], p: number): Uint8Array[] {
  const n = data.length;
  checkShape(n, p);
  const length = data[0]?.length ?? 0;
  if (data.some((d) => d.length !== length)) throw new InputInvalidError('Reed–Solomon rows must have the same length.');
  const coefficients = Array.from({ length: p }, (_, r) => generatorRow(n, p, n + r));
  return rsCombine(coefficients, data);
}

/** Inverts an n × n matrix over GF(2⁸) (rows of length n); throws if it is singular (never, for n distinct rows of [I; C]). */
function invert(matrix: readonly Uint8Array[]): Uint8Array[] {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const inv = Array.from({ length: n }, (_, i) => {
    const row = new Uint8Array(n);
    row[i] = 1;
    return row;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot]![col] === 0) pivot++;
    if (pivot === n) throw new InputInvalidError('Singular Reed–Solomon sub-matrix.');
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [inv[col], inv[pivot]] = [inv[pivot]!, inv[col]!];
    const scale = gfInv(a[col]![col]!);
    for (let k = 0; k < n; k++) {
      a[col]![k] = gfMul(a[col]![k]!, scale);
      inv[col]![k] = gfMul(inv[col]![k]!, scale);
    }
    for (let row = 0; row < n; row++) {
      const f = a[row]![col]!;
      if (row === col || f === 0) continue;
      for (let k = 0; k < n; k++) {
        a[row]![k]! ^= gfMul(f, a[col]![k]!);
        inv[row]![k]! ^= gfMul(f, inv[col]![k]!);
      }
    }
  }
  return inv;
}

/**
 * Coefficients that rebuild each `wanted` row from the rows `basis` (exactly n distinct row indices):
 * wanted_w = ⊕_i coefficients[w][i] · row_{basis[i]}.
 */
export function rebuildCoefficients(n: number, p: number, basis: readonly number[], wanted: readonly number[]): Uint8Array[] {
  checkShape(n, p);
  if (basis.length !== n || new Set(basis).size !== n || basis.some((b) => !(b >= 0 && b < n + p))) throw new InputInvalidError('A rebuild needs n distinct rows.', { basis });
  const inverse = invert(basis.map((b) => generatorRow(n, p, b)));
  return wanted.map((w) => {
    const g = generatorRow(n, p, w);
    // (G[w] · M⁻¹)[i] = ⊕_j G[w][j] · M⁻¹[j][i]
    const out = new Uint8Array(n);
    for (let j = 0; j < n; j++) if (g[j] !== 0) for (let i = 0; i < n; i++) out[i]! ^= gfMul(g[j]!, inverse[j]![i]!);
    return out;
  });
}

/**
 * Which byte loop runs: 'simd' (WebAssembly, loaded on first use) or 'js'. `undefined` = not tried yet;
 * null = tried, not available here (then 'js' for good).
 */
let simd: Gf256Kernel | null | undefined;
let forceJs = false;

function simdKernel(): Gf256Kernel | null {
  if (forceJs) return null;
  if (simd === undefined) simd = loadGf256Kernel();
  return simd;
}

/**
 * Chooses the byte loop ('js' forces the product tables; 'auto' uses SIMD where available) and returns the
 * one now in use. For tests and bench:parity, which compare the two in one process.
 */
export function useRsKernel(kind: 'auto' | 'js'): 'simd' | 'js' {
  forceJs = kind === 'js';
  return rsKernel();
}

/** The byte loop in use: 'simd' (WebAssembly) or 'js'. */
export function rsKernel(): 'simd' | 'js' {
  return simdKernel() ? 'simd' : 'js';
}

/**
 * A failed grow of the kernel's memory (RangeError: the tab is out of address space) falls back to the JS
 * loop for that call rather than failing the record.
 */
function withKernel<T>(run: (kernel: Gf256Kernel) => T, fallback: () => T): T {
  const kernel = simdKernel();
  if (!kernel) return fallback();
  try {
    return run(kernel);
  } catch (error) {
    if (error instanceof RangeError) return fallback();
    throw error;
  }
}

function combineJs(coefficients: readonly Uint8Array[], rows: readonly Uint8Array[]): Uint8Array[] {
  const length = rows[0]?.length ?? 0;
  const outs = coefficients.map(() => new Uint8Array(length));
  // In 16 KiB stripes, so each stripe of every input and output stays in the CPU cache across rows.
  const STRIPE = 16 * 1024;
  for (let at = 0; at < length; at += STRIPE) {
    const end = Math.min(length, at + STRIPE);
    for (const [w, c] of coefficients.entries()) {
      const out = outs[w]!.subarray(at, end);
      for (let i = 0; i < rows.length; i++) mulAdd(out, rows[i]!.subarray(at, end), c[i] ?? 0);
    }
  }
  return outs;
}

/** Applies `rebuildCoefficients`: `rows` are the basis rows' bytes, in basis order. */
export function rsCombine(coefficients: readonly Uint8Array[], rows: readonly Uint8Array[]): Uint8Array[] {
  return withKernel(
    (kernel) => kernel.combine(coefficients, rows),
    () => combineJs(coefficients, rows),
  );
}

/**
 * Column j of the parity matrix: c[r][j] for r < p, what data row j contributes to each parity row
 * (the `coefficients` of `rsAccumulate`).
 */
export function parityCoefficients(n: number, p: number, j: number): Uint8Array {
  checkShape(n, p);
  if (!Number.isInteger(j) || j < 0 || j >= n) throw new InputInvalidError('A data row index is 0 ≤ j < n.', { j, n });
  return Uint8Array.from({ length: p }, (_, r) => gfInv((n + r) ^ j));
}

/**
 * Adds one piece of a data row into the parity rows, in place: rows[r][offset + k] ⊕= coefficients[r] ·
 * piece[k]. Parity is the ⊕ of every data row's contribution, and ⊕ commutes, so pieces of any rows may
 * arrive in any order and in any sizes; start from zeroed rows, add each byte of each data row exactly
 * once (coefficients = `parityCoefficients(n, p, j)` for a piece of row j), and the rows equal `rsEncode`.
 */
export function rsAccumulate(parityRows: readonly Uint8Array[], coefficients: Uint8Array, piece: Uint8Array, offset: number): void {
  if (coefficients.length !== parityRows.length) throw new InputInvalidError('One coefficient per parity row.', { rows: parityRows.length, coefficients: coefficients.length });
  if (!Number.isInteger(offset) || offset < 0 || parityRows.some((row) => offset + piece.length > row.length)) {
    throw new InputInvalidError('The piece falls outside the parity rows.', { offset, length: piece.length });
  }
  withKernel(
    (kernel) => kernel.accumulate(parityRows, coefficients, piece, offset),
    () => {
      for (const [r, row] of parityRows.entries()) mulAdd(row.subarray(offset, offset + piece.length), piece, coefficients[r]!);
    },
  );
}

/**
 * Parity rows a writer folds every data piece into, start to end of a record (`rsAccumulate`'s contract):
 * kept in WebAssembly memory where the SIMD kernel runs (each piece copied in once), in plain arrays
 * otherwise. `copyRow` gives the finished rows; `release` ends it (always call it, also on failure).
 */
export interface ParityRows {
  accumulate(coefficients: Uint8Array, piece: Uint8Array, offset: number): void;
  copyRow(r: number, into: Uint8Array): void;
  release(): void;
}

/** Rows kept in kernel memory at most (p × row length); larger records fold into plain arrays. */
const RESIDENT_MAX_BYTES = 128 * 1024 * 1024;

export function openParityRows(count: number, length: number): ParityRows {
  const check = (coefficients: Uint8Array, piece: Uint8Array, offset: number) => {
    if (coefficients.length !== count) throw new InputInvalidError('One coefficient per parity row.', { rows: count, coefficients: coefficients.length });
    if (!Number.isInteger(offset) || offset < 0 || offset + piece.length > length) throw new InputInvalidError('The piece falls outside the parity rows.', { offset, length: piece.length });
  };
  const resident = simdKernel() && count * length <= RESIDENT_MAX_BYTES ? loadResidentRows(count, length) : null;
  if (resident) {
    return {
      accumulate: (coefficients, piece, offset) => {
        check(coefficients, piece, offset);
        resident.accumulate(coefficients, piece, offset);
      },
      copyRow: (r, into) => resident.copyRow(r, into),
      release: () => resident.release(),
    };
  }
  const rows = Array.from({ length: count }, () => new Uint8Array(length));
  return {
    accumulate: (coefficients, piece, offset) => rsAccumulate(rows, coefficients, piece, offset),
    copyRow: (r, into) => into.set(rows[r]!.subarray(0, into.length)),
    release: () => {},
  };
}
