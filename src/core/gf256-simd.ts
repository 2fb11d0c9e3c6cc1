import { GF256_SIMD_WASM } from './gf256-simd-wasm.js';

/**
 * The WebAssembly SIMD form of reed-solomon.ts's byte loop (gf256-simd.wat): `outs[r] ⊕= c[r] · in` for
 * all r at once, 16 bytes per step by the split-nibble method. Rows are copied into the module's memory in
 * blocks of BLOCK bytes, so callers keep passing plain Uint8Arrays. Loaded synchronously (the module is a
 * few hundred bytes, far below Chromium's 4 KiB limit for sync compiles on the main thread); where
 * WebAssembly SIMD is missing (Safari < 16.4) or compiling is not allowed (a CSP without
 * 'wasm-unsafe-eval'), `loadGf256Kernel` returns null and reed-solomon.ts keeps its JS loop.
 */
export interface Gf256Kernel {
  /** outs[w] = ⊕_j coefficients[w][j] · rows[j], each of rows[0]'s length (a row shorter than that counts as zero-padded). */
  combine(coefficients: readonly Uint8Array[], rows: readonly Uint8Array[]): Uint8Array[];
  /** outs[r][offset + k] ⊕= coefficients[r] · piece[k] for every r and k (bounds checked by the caller). */
  accumulate(outs: readonly Uint8Array[], coefficients: Uint8Array, piece: Uint8Array, offset: number): void;
}

/**
 * Bytes per block copied into the module: small enough that a block of the input and of every output stay
 * in the L2 cache, large enough that the call and copy overhead per block vanishes (bench:parity).
 */
const BLOCK = 32 * 1024;
const PAGE = 64 * 1024;

type MulAdd = (input: number, length: number, out: number, stride: number, count: number, tables: number) => void;
type MulAdd2 = (input: number, length: number, out: number, stride: number, tables: number) => void;

/** Shift-and-add product in GF(2⁸) / 0x11D; only builds the 32-byte tables, so speed does not matter. */
function mul(a: number, b: number): number {
  let product = 0;
  for (; b !== 0; b >>= 1) {
    if (b & 1) product ^= a;
    a <<= 1;
    if (a & 0x100) a ^= 0x11d;
  }
  return product;
}

/** T_lo[i] = c · i and T_hi[i] = c · 16i (i < 16) at `at`: what the kernel swizzles with the two nibbles. */
function writeTables(view: Uint8Array, at: number, c: number): void {
  for (let i = 0; i < 16; i++) {
    view[at + i] = mul(c, i);
    view[at + 16 + i] = mul(c, i << 4);
  }
}

const roundUp16 = (x: number) => (x + 15) & ~15;

class SimdKernel implements Gf256Kernel {
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly mulAddAny: MulAdd,
    private readonly mulAdd2: MulAdd2,
  ) {}

  private mulAdd(input: number, length: number, out: number, stride: number, count: number, tables: number): void {
    if (count === 2) this.mulAdd2(input, length, out, stride, tables);
    else this.mulAddAny(input, length, out, stride, count, tables);
  }

  /** The memory view, grown to at least `bytes` (a grow detaches the old buffer, hence a fresh view). */
  private view(bytes: number): Uint8Array {
    const have = this.memory.buffer.byteLength;
    if (have < bytes) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    return new Uint8Array(this.memory.buffer);
  }

  combine(coefficients: readonly Uint8Array[], rows: readonly Uint8Array[]): Uint8Array[] {
    const length = rows[0]?.length ?? 0;
    const outs = coefficients.map(() => new Uint8Array(length));
    const w = coefficients.length;
    // Inputs whose coefficients are all zero add nothing; skipping them also skips their copy.
    const used = rows.map((_, j) => j).filter((j) => coefficients.some((c) => (c[j] ?? 0) !== 0));
    if (w === 0 || length === 0 || used.length === 0) return outs;
    const block = Math.min(BLOCK, roundUp16(length));
    // Layout: tables (w per used input, 32 bytes each) | one input block | w output blocks.
    const inputAt = used.length * w * 32;
    const outAt = inputAt + block;
    const view = this.view(outAt + w * block);
    for (const [u, j] of used.entries()) for (let r = 0; r < w; r++) writeTables(view, (u * w + r) * 32, coefficients[r]![j] ?? 0);
    for (let at = 0; at < length; at += block) {
      const len = Math.min(block, length - at);
      view.fill(0, outAt, outAt + w * block);
      for (const [u, j] of used.entries()) {
        const piece = rows[j]!.subarray(at, at + len);
        view.set(piece, inputAt);
        if (piece.length < len) view.fill(0, inputAt + piece.length, inputAt + len);
        this.mulAdd(inputAt, roundUp16(len), outAt, block, w, u * w * 32);
      }
      for (let r = 0; r < w; r++) outs[r]!.set(view.subarray(outAt + r * block, outAt + r * block + len), at);
    }
    return outs;
  }

  accumulate(outs: readonly Uint8Array[], coefficients: Uint8Array, piece: Uint8Array, offset: number): void {
    const w = outs.length;
    if (w === 0 || piece.length === 0) return;
    const block = Math.min(BLOCK, roundUp16(piece.length));
    const inputAt = w * 32;
    const outAt = inputAt + block;
    const view = this.view(outAt + w * block);
    for (let r = 0; r < w; r++) writeTables(view, r * 32, coefficients[r] ?? 0);
    for (let at = 0; at < piece.length; at += block) {
      const len = Math.min(block, piece.length - at);
      view.set(piece.subarray(at, at + len), inputAt);
      for (let r = 0; r < w; r++) view.set(outs[r]!.subarray(offset + at, offset + at + len), outAt + r * block);
      this.mulAdd(inputAt, roundUp16(len), outAt, block, w, 0);
      for (let r = 0; r < w; r++) outs[r]!.set(view.subarray(outAt + r * block, outAt + r * block + len), offset + at);
    }
  }
}

/**
 * Parity rows that live in a kernel instance's own memory for a whole record (a writer that folds every data
 * piece in as it is made, FORMAT.md §4.4): a piece is copied in once, where `accumulate` copies each row
 * block in and out again around every piece (5 copies per data byte at p = 2: more time than the SIMD
 * multiply itself in the CLI's profile).
 */
export interface ResidentRows {
  /** rows[r][offset + k] ⊕= coefficients[r] · piece[k] (bounds checked by the caller). */
  accumulate(coefficients: Uint8Array, piece: Uint8Array, offset: number): void;
  /** Row r's bytes into `into` (a row's length). */
  copyRow(r: number, into: Uint8Array): void;
  /** Gives the instance back for the next record (its memory, already grown, is reused). */
  release(): void;
}

let compiled: WebAssembly.Module | null | undefined;
/** Released instances kept for reuse, per thread: a record's rows then need no fresh pages. */
const spareInstances: WebAssembly.Instance[] = [];

/**
 * `count` rows of `length` bytes, zeroed, in a kernel instance of their own (so nothing else in this thread
 * that uses the kernel can touch them); null where the SIMD kernel cannot run or the memory cannot grow.
 * Layout: tables (32 bytes per row) | one input block | the rows, each padded to a 16-byte multiple + 16
 * (the kernel works in whole 16-byte blocks; the input's tail past a piece is zero, so it adds nothing).
 */
export function loadResidentRows(count: number, length: number): ResidentRows | null {
  try {
    if (compiled === undefined) compiled = typeof WebAssembly === 'object' && WebAssembly.validate(GF256_SIMD_WASM) ? new WebAssembly.Module(GF256_SIMD_WASM) : null;
    if (!compiled || count < 1) return null;
    const instance = spareInstances.pop() ?? new WebAssembly.Instance(compiled, {});
    const { memory, mulAdd, mulAdd2 } = instance.exports as { memory: WebAssembly.Memory; mulAdd: MulAdd; mulAdd2: MulAdd2 };
    const stride = roundUp16(length) + 16;
    const inputAt = roundUp16(count * 32);
    const rowsAt = inputAt + BLOCK;
    const end = rowsAt + count * stride;
    if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    new Uint8Array(memory.buffer).fill(0, rowsAt, end);
    let released = false;
    return {
      accumulate(coefficients, piece, offset) {
        const view = new Uint8Array(memory.buffer);
        for (let r = 0; r < count; r++) writeTables(view, r * 32, coefficients[r] ?? 0);
        for (let at = 0; at < piece.length; at += BLOCK) {
          const len = Math.min(BLOCK, piece.length - at);
          const padded = roundUp16(len);
          view.set(piece.subarray(at, at + len), inputAt);
          if (padded > len) view.fill(0, inputAt + len, inputAt + padded);
          const out = rowsAt + offset + at;
          if (count === 2) mulAdd2(inputAt, padded, out, stride, 0);
          else mulAdd(inputAt, padded, out, stride, count, 0);
        }
      },
      copyRow(r, into) {
        into.set(new Uint8Array(memory.buffer, rowsAt + r * stride, into.length));
      },
      release() {
        if (released) return;
        released = true;
        // Instances holding a large record's rows are dropped rather than kept (memory never shrinks).
        if (spareInstances.length < 2 && memory.buffer.byteLength <= 32 * 1024 * 1024) spareInstances.push(instance);
      },
    };
  } catch {
    return null;
  }
}

/**
 * The SIMD kernel, or null where it cannot run: no WebAssembly, no SIMD (`validate` is false), or a
 * compile the page's CSP forbids (throws). Never throws itself. `bytes` is for tests of the fallback.
 */
export function loadGf256Kernel(bytes: Uint8Array<ArrayBuffer> = GF256_SIMD_WASM): Gf256Kernel | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const { memory, mulAdd, mulAdd2 } = instance.exports as { memory?: unknown; mulAdd?: unknown; mulAdd2?: unknown };
    if (!(memory instanceof WebAssembly.Memory) || typeof mulAdd !== 'function' || typeof mulAdd2 !== 'function') return null;
    return new SimdKernel(memory, mulAdd as MulAdd, mulAdd2 as MulAdd2);
  } catch {
    return null;
  }
}
