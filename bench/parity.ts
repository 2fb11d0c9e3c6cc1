/**
 * `npm run bench:parity`: what parity objects (FORMAT.md §4.4, algorithm 01) cost — Reed–Solomon encode
 * and rebuild throughput, the whole parity step of protect (RS + AES-CTR seal under K_parity), opening
 * with two objects missing, and the size overhead for p = 1, 2, 4. Node, one thread (the engine Worker
 * runs the same code). Prints a Markdown table for bench/README.md.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_PARITY, openRecord, protectRecord, rebuildCoefficients, rsCombine, rsEncode, type KdfParams } from '../src/core/index.js';

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

console.log('## Reed–Solomon (algorithm 01), n = 8 rows of 1 MiB (8 MiB of data), best of 5\n');
console.log('| p | encode (data MiB/s) | rebuild p data rows from parity (data MiB/s) |');
console.log('|---:|---:|---:|');
const n = 8;
const data = Array.from({ length: n }, (_, j) => bytes(MiB, j + 1));
for (const p of [1, 2, 4]) {
  let parity: Uint8Array[] = [];
  const enc = best(5, () => {
    parity = rsEncode(data, p);
  });
  const rows = [...data, ...parity];
  const lost = Array.from({ length: p }, (_, i) => i);
  const basis = Array.from({ length: n + p }, (_, i) => i).filter((i) => !lost.includes(i));
  const dec = best(5, () => {
    rsCombine(rebuildCoefficients(n, p, basis, lost), basis.map((b) => rows[b]!));
  });
  console.log(`| ${p} | ${rate(n * MiB, enc)} | ${rate(n * MiB, dec)} |`);
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
