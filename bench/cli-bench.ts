/**
 * `npm run bench:cli [-- --files=24 --size-mib=16 --jobs=N]`: bulk-protect throughput of the command line on a
 * folder of DICOM-like files (128-byte preamble, "DICM", pseudo-random body: kept as original bytes, like
 * real DICOM) against a raw read of the same folder, with the same number of parallel readers. Writes
 * bench/cli-results.json. Objects go to a local folder (`protect --to`), so the figure is the CLI's own
 * work (read, Argon2id, AES-GCM, AES-CTR seal, SHA-256, write), not a network's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KDF, stretchSequenceKey } from '../src/core/kdf.js';
import { parseSequenceKey } from '../src/core/sequence-key.js';
import { collectInputs } from '../src/cli/inputs.js';
import { TEST_KDF } from '../src/cli/kdf-choice.js';
import { runProtect } from '../src/cli/protect-command.js';
import { FolderStore, mapLimit, type ObjectStore } from '../src/cli/storage.js';

/** Discards the objects: the CLI's own work without the disk (a folder sink is bound by its fsyncs). */
/** Computes the objects' SHA-256 as for the presign service (needsDigests unset): an S3 run's CPU work. */
const discard: ObjectStore = { description: 'discard', getMany: async (names) => names.map(() => undefined), putMany: async () => {}, deleteMany: async () => {} };

const MiB = 1024 * 1024;
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const files = arg('files', 24);
const sizeMiB = arg('size-mib', 16);
const jobs = arg('jobs', availableParallelism());
const root = mkdtempSync(join(tmpdir(), 'ehrv-cli-bench-'));
const input = join(root, 'archive');

function dicomLike(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed * 2654435761 || 1;
  const view = new Uint32Array(bytes.buffer, 0, Math.floor(size / 4));
  for (let i = 0; i < view.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view[i] = x >>> 0;
  }
  bytes.fill(0, 0, 128);
  bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
  return bytes;
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
sampler.unref();

async function rawRead(paths: readonly string[]): Promise<number> {
  const started = performance.now();
  let bytes = 0;
  await mapLimit(paths, jobs, async (p) => {
    bytes += (await readFile(p)).length;
  });
  return bytes / MiB / ((performance.now() - started) / 1000);
}

async function protectRun(label: string, kdf: typeof DEFAULT_KDF, sink?: ObjectStore) {
  const out = join(root, `objects-${label}`);
  peakRss = 0;
  const inputs = await collectInputs([input]);
  const started = performance.now();
  const summary = await runProtect({ inputs, store: sink ?? new FolderStore(out), sequenceKey: 'Bench#2071!', manifest: join(root, `manifest-${label}.csv`), jobs, kdf, progress: false });
  const seconds = (performance.now() - started) / 1000;
  rmSync(out, { recursive: true, force: true });
  return { label, records: summary.protected, seconds, mibPerSecond: summary.inputBytes / MiB / seconds, recordsPerSecond: summary.protected / seconds, peakRssMiB: Math.round(peakRss / MiB), argon2idRuns: summary.argon2idRuns, journalSyncs: summary.journalSyncs };
}

async function main() {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(input, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(input, `IM${String(i).padStart(5, '0')}.dcm`), dicomLike(sizeMiB * MiB, i + 1));
  const paths = (await collectInputs([input])).map((i) => i.path);

  // Argon2id alone, one thread: the per-record cost that bounds small records (FORMAT.md §3.1).
  const key = parseSequenceKey('Bench#2071!');
  const salt = new Uint8Array(16);
  await stretchSequenceKey(key, salt, DEFAULT_KDF);
  const kdfRuns = 6;
  const kdfStart = performance.now();
  for (let i = 0; i < kdfRuns; i++) await stretchSequenceKey(key, salt, DEFAULT_KDF);
  const argon2Ms = (performance.now() - kdfStart) / kdfRuns;

  const reads = [await rawRead(paths), await rawRead(paths), await rawRead(paths)];
  const raw = Math.max(...reads);
  const real = await protectRun('default-kdf', DEFAULT_KDF);
  const bytesOnly = await protectRun('test-kdf', TEST_KDF);
  const realNoDisk = await protectRun('default-kdf-discard', DEFAULT_KDF, discard);
  const bytesOnlyNoDisk = await protectRun('test-kdf-discard', TEST_KDF, discard);
  clearInterval(sampler);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    folder: { files, sizeMiB, totalMiB: files * sizeMiB },
    jobs,
    argon2idMsPerRecordPerCore: Math.round(argon2Ms),
    rawReadMiBPerSecond: Math.round(raw),
    protect: real,
    protectWithoutArgon2: bytesOnly,
    ratio: +(real.mibPerSecond / raw).toFixed(3),
    ratioWithoutArgon2: +(bytesOnly.mibPerSecond / raw).toFixed(3),
    protectToDiscard: realNoDisk,
    protectToDiscardWithoutArgon2: bytesOnlyNoDisk,
    ratioToDiscard: +(realNoDisk.mibPerSecond / raw).toFixed(3),
    ratioToDiscardWithoutArgon2: +(bytesOnlyNoDisk.mibPerSecond / raw).toFixed(3),
  };
  writeFileSync(new URL('./cli-results.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`folder: ${files} × ${sizeMiB} MiB DICOM-like, ${jobs} worker(s), ${result.machine.cpus} CPU(s)`);
  console.log(`raw read           ${raw.toFixed(0).padStart(6)} MiB/s`);
  console.log(`protect            ${real.mibPerSecond.toFixed(0).padStart(6)} MiB/s  ${real.recordsPerSecond.toFixed(2)} records/s  peak RSS ${real.peakRssMiB} MiB  ratio ${result.ratio}`);
  console.log(`protect, test KDF  ${bytesOnly.mibPerSecond.toFixed(0).padStart(6)} MiB/s  ${bytesOnly.recordsPerSecond.toFixed(2)} records/s  peak RSS ${bytesOnly.peakRssMiB} MiB  ratio ${result.ratioWithoutArgon2}`);
  for (const [label, r] of [['protect → discard', realNoDisk], ['  test KDF → discard', bytesOnlyNoDisk]] as const) {
    console.log(`${label.padEnd(19)}${r.mibPerSecond.toFixed(0).padStart(6)} MiB/s  ${r.recordsPerSecond.toFixed(2)} records/s  peak RSS ${r.peakRssMiB} MiB  ratio ${(r.mibPerSecond / raw).toFixed(3)}`);
  }
  console.log(`Argon2id (64 MiB, 4 passes) ${result.argon2idMsPerRecordPerCore} ms per record per core → ≤ ${(1000 / argon2Ms).toFixed(2)} small records/s/core`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
