/**
 * The WebAssembly SIMD kernel of Reed–Solomon algorithm 01 (src/core/gf256-simd.wat): its committed bytes
 * are a fresh compile of the WAT, it loads in Node, it gives exactly the JS product-table loop's bytes for
 * any shape, length and coefficients, and where it cannot load the JS loop takes over without an error.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MODULE_PATH, compileWat, moduleText } from '../../../tools/build-wasm.js';
import { GF256_SIMD_WASM } from '../../../src/core/gf256-simd-wasm.js';
import { loadGf256Kernel } from '../../../src/core/gf256-simd.js';
import { gfMul, openParityRows, parityCoefficients, rebuildCoefficients, rsAccumulate, rsCombine, rsEncode, rsKernel, useRsKernel } from '../../../src/core/index.js';
import { caughtSync, pseudoRandomBytes } from './helpers.js';

/** Lengths around the kernel's 16-byte steps and 32 KiB blocks, plus 0 and 1. */
const length = fc.oneof(
  fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 70_001),
  fc.integer({ min: 0, max: 2000 }),
);

/** Rows as hex: compared as strings, since deep equality over large typed arrays is slow. */
const hex = (rows: readonly (Uint8Array | undefined)[]) => rows.map((row) => Buffer.from(row ?? []).toString('hex'));

function both<T>(run: () => T): { js: T; simd: T } {
  expect(useRsKernel('js')).toBe('js');
  const js = run();
  expect(useRsKernel('auto')).toBe('simd');
  return { js, simd: run() };
}

afterEach(() => {
  useRsKernel('auto');
  vi.unstubAllGlobals();
});

describe('GF(2⁸) SIMD kernel', () => {
  it('the committed module is a fresh compile of gf256-simd.wat, small enough for a synchronous compile', async () => {
    const fresh = await compileWat();
    expect([...GF256_SIMD_WASM]).toEqual([...fresh]);
    expect(readFileSync(MODULE_PATH, 'utf8')).toBe(moduleText(fresh));
    expect(GF256_SIMD_WASM.length).toBeLessThan(4096);
  });

  it('loads in Node (WebAssembly SIMD is there) and is the kernel in use by default', () => {
    expect(loadGf256Kernel()).not.toBeNull();
    expect(rsKernel()).toBe('simd');
  });

  it('rsEncode: the same parity bytes as the JS loop for random n, p and lengths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 6 }), length, fc.integer(), (n, p, len, seed) => {
        const data = Array.from({ length: n }, (_, j) => pseudoRandomBytes(len, seed + j));
        const { js, simd } = both(() => rsEncode(data, p));
        expect(hex(simd)).toEqual(hex(js));
      }),
      { numRuns: 100 },
    );
  });

  it('rsCombine: the same bytes for arbitrary coefficients (0, 1 and the rest), rows shorter than the first counting as zeros', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 5 }), length, fc.integer(), fc.boolean(), (n, w, len, seed, ragged) => {
        const rows = Array.from({ length: n }, (_, j) => pseudoRandomBytes(ragged && j > 0 ? Math.max(0, len - 7 * j) : len, seed ^ (j * 0x9e37)));
        const coefficients = Array.from({ length: w }, (_, r) => pseudoRandomBytes(n, seed + 1000 + r).map((c, j) => ((j + r) % 4 === 0 ? 0 : (j + r) % 4 === 1 ? 1 : c)));
        const { js, simd } = both(() => rsCombine(coefficients, rows));
        expect(hex(simd)).toEqual(hex(js));
        // And the products are GF(2⁸) products: check one byte of each output against gfMul.
        if (len > 0) for (const [r, c] of coefficients.entries()) expect(simd[r]![len - 1]).toBe(rows.reduce((acc, row, j) => acc ^ gfMul(c[j]!, row[len - 1] ?? 0), 0));
      }),
      { numRuns: 100 },
    );
  });

  it('rebuilds lost rows from any n rows exactly as the JS loop does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 4 }), length, fc.integer(), (n, p, len, seed) => {
        const data = Array.from({ length: n }, (_, j) => pseudoRandomBytes(len, seed + 7 * j));
        const rows = [...data, ...rsEncode(data, p)];
        // p consecutive rows (mod n + p) from a random start: data rows, parity rows or both are lost.
        const lost = Array.from({ length: p }, (_, i) => ((seed >>> 0) + i) % (n + p));
        const basis = rows.map((_, i) => i).filter((i) => !lost.includes(i)).slice(0, n);
        const { js, simd } = both(() => rsCombine(rebuildCoefficients(n, p, basis, lost), basis.map((b) => rows[b]!)));
        expect(hex(simd)).toEqual(hex(js));
        expect(hex(simd)).toEqual(hex(lost.map((i) => rows[i])));
      }),
      { numRuns: 100 },
    );
  });

  it('rsAccumulate: pieces of the data rows in any order and size add up to rsEncode (SIMD and JS)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 4 }), length, fc.integer(), (n, p, len, seed) => {
        const data = Array.from({ length: n }, (_, j) => pseudoRandomBytes(len, seed + j));
        // Cut every row at pseudo-random points, then shuffle all pieces together.
        const cuts = pseudoRandomBytes(4 * n, seed);
        const pieces: { j: number; at: number; end: number; key: number }[] = [];
        for (let j = 0; j < n; j++) {
          const a = Math.min(len, cuts[4 * j]! * 97);
          const b = Math.min(len, a + cuts[4 * j + 1]! * 13);
          for (const [at, end] of [[0, a], [a, b], [b, len]] as const) pieces.push({ j, at, end, key: cuts[4 * j + 2]! ^ (at * 31) });
        }
        pieces.sort((x, y) => x.key - y.key);
        const build = () => {
          const parity = Array.from({ length: p }, () => new Uint8Array(len));
          for (const { j, at, end } of pieces) rsAccumulate(parity, parityCoefficients(n, p, j), data[j]!.subarray(at, end), at);
          return parity;
        };
        const { js, simd } = both(build);
        const expected = rsEncode(data, p);
        expect(hex(js)).toEqual(hex(expected));
        expect(hex(simd)).toEqual(hex(expected));
      }),
      { numRuns: 100 },
    );
  });

  it('openParityRows: rows kept in kernel memory fold any cut of the data rows into rsEncode, two sets at once and after reuse (SIMD and JS)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), length, fc.integer(), (n, p, len, seed) => {
        const data = Array.from({ length: n }, (_, j) => pseudoRandomBytes(len, seed + j));
        const other = Array.from({ length: n }, (_, j) => pseudoRandomBytes(len, seed + 100 + j));
        const cut = Math.min(len, pseudoRandomBytes(1, seed)[0]! * 37);
        const build = () => {
          // Two records folded at once in one thread (the CLI with jobs 0), interleaved piece by piece.
          const a = openParityRows(p, len);
          const b = openParityRows(p, len);
          try {
            for (let j = n - 1; j >= 0; j--) {
              for (const [at, end] of [[cut, len], [0, cut]] as const) {
                a.accumulate(parityCoefficients(n, p, j), data[j]!.subarray(at, end), at);
                b.accumulate(parityCoefficients(n, p, j), other[j]!.subarray(at, end), at);
              }
            }
            const out = (rows: typeof a) => Array.from({ length: p }, (_, r) => {
              const row = new Uint8Array(len).fill(0xee);
              rows.copyRow(r, row);
              return row;
            });
            return [out(a), out(b)];
          } finally {
            a.release();
            b.release();
          }
        };
        const { js, simd } = both(build);
        // A third set after release gets a reused instance: it must start from zero rows again.
        const again = both(build).simd;
        for (const [rows, source] of [[0, data], [1, other]] as const) {
          const expected = hex(rsEncode(source, p));
          expect(hex(js[rows]!)).toEqual(expected);
          expect(hex(simd[rows]!)).toEqual(expected);
          expect(hex(again[rows]!)).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('openParityRows refuses a piece outside the rows or a coefficient count that does not match (INPUT_INVALID)', () => {
    const rows = openParityRows(2, 10);
    try {
      caughtSync(() => rows.accumulate(parityCoefficients(4, 2, 0), new Uint8Array(4), 7), 'INPUT_INVALID');
      caughtSync(() => rows.accumulate(new Uint8Array(1), new Uint8Array(4), 0), 'INPUT_INVALID');
      const row = new Uint8Array(10).fill(1);
      rows.copyRow(1, row);
      expect(row.every((b) => b === 0)).toBe(true);
    } finally {
      rows.release();
    }
  });

  it('rsAccumulate refuses a piece outside the rows or a coefficient count that does not match (INPUT_INVALID)', () => {
    const rows = [new Uint8Array(10), new Uint8Array(10)];
    caughtSync(() => rsAccumulate(rows, parityCoefficients(4, 2, 0), new Uint8Array(4), 7), 'INPUT_INVALID');
    caughtSync(() => rsAccumulate(rows, parityCoefficients(4, 2, 0), new Uint8Array(4), -1), 'INPUT_INVALID');
    caughtSync(() => rsAccumulate(rows, new Uint8Array(1), new Uint8Array(4), 0), 'INPUT_INVALID');
    caughtSync(() => parityCoefficients(4, 2, 4), 'INPUT_INVALID');
    expect([...rows[0]!, ...rows[1]!].every((b) => b === 0)).toBe(true);
  });

  it('a failed grow of the kernel memory (RangeError: out of address space) runs that call in the JS loop', () => {
    // 120 output rows of 40 000 bytes need ~4 MiB of kernel memory, more than any test before has grown it to.
    const rows = Array.from({ length: 3 }, (_, j) => pseudoRandomBytes(40_000, j + 5));
    const coefficients = Array.from({ length: 120 }, (_, r) => Uint8Array.of(r, r + 1, r + 2));
    expect(useRsKernel('js')).toBe('js');
    const js = rsCombine(coefficients, rows);
    expect(useRsKernel('auto')).toBe('simd');
    const grow = vi.spyOn(WebAssembly.Memory.prototype, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    try {
      expect(hex(rsCombine(coefficients, rows))).toEqual(hex(js));
      expect(grow).toHaveBeenCalled();
      expect(rsKernel()).toBe('simd');
    } finally {
      grow.mockRestore();
    }
  });

  it('falls back to the JS loop, never throws, where WebAssembly is missing, lacks SIMD or may not compile (CSP)', () => {
    // An engine without SIMD rejects the module at validation, as it rejects this one with its first
    // i8x16.swizzle (0xfd 0x0e) given an opcode prefix that does not exist (0xff; 0xfd is SIMD's).
    const invalid = Uint8Array.from(GF256_SIMD_WASM);
    const swizzle = invalid.findIndex((b, i) => b === 0xfd && invalid[i + 1] === 0x0e);
    expect(swizzle).toBeGreaterThan(0);
    invalid[swizzle] = 0xff;
    expect(loadGf256Kernel(invalid)).toBeNull();
    expect(loadGf256Kernel(new Uint8Array([1, 2, 3]))).toBeNull();
    vi.stubGlobal('WebAssembly', {
      validate: () => true,
      Module: function () {
        throw new EvalError("Refused to compile WebAssembly because 'wasm-unsafe-eval' is not allowed");
      },
    });
    expect(loadGf256Kernel()).toBeNull();
    vi.stubGlobal('WebAssembly', undefined);
    expect(loadGf256Kernel()).toBeNull();
  });
});
