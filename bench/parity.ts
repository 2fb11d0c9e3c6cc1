/**
 * `npm run bench:parity`: what parity objects (FORMAT.md §4.4, algorithm 01) cost — Reed–Solomon encode
 * and rebuild throughput, the whole parity step of protect (RS + AES-CTR seal under K_parity), opening
 * with two objects missing, and the size overhead for p = 1, 2, 4. Node, one thread (the engine Worker
 * runs the same code). Prints a Markdown table for bench/README.md.
 *
 * The Reed–Solomon table measures both byte loops in the same run — the WebAssembly SIMD kernel and the
 * JS product-table loop (`useRsKernel('js')`) — taking turns run by run, so machine noise hits both alike;
 * compare their ratio, not absolute figures across runs.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_PARITY, openRecord, parityCoefficients, protectRecord, rebuildCoefficients, rsAccumulate, rsCombine, rsEncode, useRsKernel, type KdfParams } from '../src/core/index.js';

const MiB = 1024 * 1024;
const KDF: KdfParams = { memoryKiB: 64, passes: 1, parallelism: 1 };
const KEY = 'adk21937';

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function best(runs: number, f: () => void): number {
  let min = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    f();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

async function bestAsync(runs: number, f: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await f();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

const rate = (byteCount: number, ms: number) => `${((byteCount / MiB) / (ms / 1000)).toFixed(0)} MiB/s`;

const kernel = useRsKernel('auto');
console.log(`## Reed–Solomon (algorithm 01), n = 8 rows of 1 MiB (8 MiB of data), best of 7, kernel in use: ${kernel}\n`);
console.log('| p | encode JS | encode SIMD | ×JS | rebuild p data rows JS | rebuild SIMD | ×JS | accumulate SIMD (64 KiB pieces, shuffled) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
const n = 8;
const data = Array.from({ length: n }, (_, j) => bytes(MiB, j + 1));
const PIECE = 64 * 1024;
/** Every 64 KiB piece of every data row, in a fixed shuffled order (the order pieces may arrive in). */
const pieces = Array.from({ length: n * (MiB / PIECE) }, (_, i) => ({ j: i % n, at: Math.floor(i / n) * PIECE }));
for (let i = pieces.length - 1; i > 0; i--) {
  const k = (i * 7919) % (i + 1);
  [pieces[i], pieces[k]] = [pieces[k]!, pieces[i]!];
}
/** Best-of-`runs` times of each kernel, the two taking turns. */
function race(runs: number, f: () => void): { js: number; simd: number } {
  const out = { js: Infinity, simd: Infinity };
  for (let r = 0; r < runs; r++) {
    for (const k of ['js', 'auto'] as const) {
      useRsKernel(k);
      const t = performance.now();
      f();
      const ms = performance.now() - t;
      if (k === 'js') out.js = Math.min(out.js, ms);
      else out.simd = Math.min(out.simd, ms);
    }
  }
  useRsKernel('auto');
  return out;
}
const mibps = (byteCount: number, ms: number) => (byteCount / MiB) / (ms / 1000);
for (const p of [1, 2, 4]) {
  const parity = rsEncode(data, p);
  const enc = race(7, () => rsEncode(data, p));
  const rows = [...data, ...parity];
  const lost = Array.from({ length: p }, (_, i) => i);
  const basis = Array.from({ length: n + p }, (_, i) => i).filter((i) => !lost.includes(i));
  const dec = race(7, () => rsCombine(rebuildCoefficients(n, p, basis, lost), basis.map((b) => rows[b]!)));
  const columns = Array.from({ length: n }, (_, j) => parityCoefficients(n, p, j));
  const acc = best(7, () => {
    const out = Array.from({ length: p }, () => new Uint8Array(MiB));
    for (const { j, at } of pieces) rsAccumulate(out, columns[j]!, data[j]!.subarray(at, at + PIECE), at);
  });
  const [ej, es, dj, ds] = [mibps(n * MiB, enc.js), mibps(n * MiB, enc.simd), mibps(n * MiB, dec.js), mibps(n * MiB, dec.simd)];
  console.log(`| ${p} | ${ej.toFixed(0)} MiB/s | ${es.toFixed(0)} MiB/s | ${(es / ej).toFixed(1)}× | ${dj.toFixed(0)} MiB/s | ${ds.toFixed(0)} MiB/s | ${(ds / dj).toFixed(1)}× | ${rate(n * MiB, acc)} |`);
}

console.log('\n## Whole records (protectRecord / openRecord in memory, Argon2id at test parameters), best of 3\n');
console.log('| size | p | objects | stored bytes | overhead vs p = 0 | protect | open (all objects) | open (2 data objects missing) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const size of [1 * MiB, 16 * MiB]) {
  const body = bytes(size, 99);
  const metadata = { kind: 'file' as const, name: 'scan.bin', mime: 'application/octet-stream', byteLength: size };
  let plainStored = 0;
  for (const p of [0, 1, 2, 4]) {
    let record = await protectRecord([body], metadata, KEY, { kdf: KDF, parity: p });
    const protectMs = await bestAsync(3, async () => {
      record = await protectRecord([body], metadata, KEY, { kdf: KDF, parity: p });
    });
    const stored = record.objects.reduce((s, o) => s + o.length, 0);
    if (p === 0) plainStored = stored;
    const openMs = await bestAsync(3, () => openRecord(record.objects, KEY, record.recordKey, record.recordId));
    const missingMs = p >= 2 ? await bestAsync(3, () => openRecord(record.objects.filter((_, i) => i !== 1 && i !== 5), KEY, record.recordKey, record.recordId)) : undefined;
    const overhead = `${(((stored - plainStored) / plainStored) * 100).toFixed(1)} %`;
    console.log(`| ${size / MiB} MiB | ${p} | ${record.objects.length} | ${stored} | ${overhead} | ${protectMs.toFixed(0)} ms | ${openMs.toFixed(0)} ms | ${missingMs === undefined ? '–' : `${missingMs.toFixed(0)} ms`} |`);
  }
}
console.log(`\nDefault parity: p = ${DEFAULT_PARITY}.`);
