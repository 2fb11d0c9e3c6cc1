/**
 * `npm run bench:cli [-- --files=24 --archive-times=4 --ct-files=24 --slice-files=400 --size-mib=16 --jobs=N --repeat=3]`: bulk-protect throughput of the command
 * line on a folder of DICOM-like files (128-byte preamble, "DICM", pseudo-random body: incompressible, kept as
 * original bytes, like most real DICOM) against a raw read of the same folder with the same number of parallel
 * readers, all in one run. Writes bench/cli-results.json. Sinks: a local folder (`protect --to`: write +
 * rename, no SHA-256) and a discarding store that still needs the SHA-256 of every object (an S3 run's CPU
 * work without the network); each with and without the default 2 parity objects, with the test KDF (the
 * byte work) and with the default Argon2id (the real command: one Argon2id per run). Then a breakdown: what
 * each stage costs one thread per MiB, measured here in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { deflateRawSync } from 'node:zlib';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_KDF, stretchSequenceKey, type KdfParams } from '../src/core/kdf.js';
import { parityCoefficients, rsAccumulate } from '../src/core/reed-solomon.js';
import type { Stretch } from '../src/core/open-objects.js';
import { parseSequenceKey } from '../src/core/sequence-key.js';
import { collectInputs } from '../src/cli/inputs.js';
import { writeCtDicom } from './dicom-writer.js';
import { TEST_KDF } from '../src/cli/kdf-choice.js';
import { cliStretch } from '../src/cli/native-argon2.js';
import { runProtect } from '../src/cli/protect-command.js';
import { FolderStore, mapLimit, PresignStore, type ObjectStore } from '../src/cli/storage.js';
import { ProtectPool } from '../src/cli/worker-pool.js';
import { bundleProtectWorker, protectWorkerUrl } from '../src/cli/worker-source.js';

/**
 * Discards the objects: the CLI's own work without the disk. needsDigests unset: the objects' SHA-256 is
 * computed as for the presign service (an S3 run's CPU work). It has no worker sink, so each record's objects
 * are handed to this thread first (more than an S3 run, whose workers upload what they sealed).
 */
const discard: ObjectStore = { description: 'discard', getMany: async (names) => names.map(() => undefined), putMany: async () => {}, deleteMany: async () => {} };

/**
 * The HTTP sink (bench/http-sink.ts) in a process of its own, started on first use: objects go to it through
 * presigned PUT URLs as to a store, so these rows include what an upload costs the CLI (node:http, TCP).
 */
let sinkProcess: ChildProcess | undefined;
let sinkPort: Promise<number> | undefined;
function httpSinkPort(): Promise<number> {
  sinkPort ??= new Promise<number>((resolve, reject) => {
    sinkProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./http-sink.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
    sinkProcess.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    sinkProcess.once('exit', (code) => reject(new Error(`the HTTP sink exited (${code})`)));
  });
  return sinkPort;
}

const MiB = 1024 * 1024;
const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const files = arg('files', 24);
/** The archive rows: the folder's files hard-linked this many times over (a larger run, no more disk). */
const archiveTimes = arg('archive-times', 4);
const sizeMiB = arg('size-mib', 16);
const jobs = arg('jobs', availableParallelism());
const repeat = arg('repeat', 3);
const root = mkdtempSync(join(tmpdir(), 'ehrv-cli-bench-'));
const input = join(root, 'archive');

const ctFiles = arg('ct-files', 24);
const CT_FRAMES = 31;
/** A CT series as most PACS export it: one file per 512 × 512 slice (512 KiB each). */
const sliceFiles = arg('slice-files', 400);

/**
 * A CT DICOM of 31 slices of 512 × 512 (15.5 MiB: the CLI compresses files of at most 16 MiB, FORMAT.md
 * §6.3) from bench/dicom-writer.ts, with ±20 of pseudo-random noise on every stored value.
 */
function noisyCt(seed: number, frames = CT_FRAMES): Uint8Array {
  const file = writeCtDicom(512, frames);
  const count = 512 * 512 * frames;
  // Pixel Data is the file's last element; DICOM pads every value to an even length, so it is 2-aligned.
  const stored = new Int16Array(file.buffer, file.length - count * 2, count);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    stored[i] = stored[i]! + ((x >>> 0) % 41) - 20;
  }
  return file;
}

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

/** CPU time of this process (every thread, user + system) in ms. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function rawRead(paths: readonly string[]): Promise<{ mibPerSecond: number; cpuMsPerMiB: number }> {
  const started = performance.now();
  const cpu = cpuMs();
  let bytes = 0;
  // Summed after the await: `bytes += (await readFile(p)).length` reads `bytes` before awaiting, so with two
  // readers at once every other file was lost and the raw read looked half as fast (sessions 4–6).
  await mapLimit(paths, jobs, async (p) => {
    const read = await readFile(p);
    bytes += read.length;
  });
  return { mibPerSecond: bytes / MiB / ((performance.now() - started) / 1000), cpuMsPerMiB: (cpuMs() - cpu) / (bytes / MiB) };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface RunResult {
  label: string;
  records: number;
  seconds: number;
  mibPerSecond: number;
  recordsPerSecond: number;
  ratio: number;
  /** Raw read right before this run (paired: the shared machine's load drifts between runs). */
  rawReadMiBPerSecond: number;
  /** CPU time of the whole process (all threads) per MiB protected, and per MiB of the paired raw read. */
  cpuMsPerMiB: number;
  rawReadCpuMsPerMiB: number;
  peakRssMiB: number;
  argon2idRuns: number;
  journalSyncs: number;
}

let runNo = 0;
type Sink = 'folder' | 'discard' | 'http';

async function protectOnce(label: string, kdf: KdfParams, parity: number, sink: Sink, paths: readonly string[], folder = input, compress = true): Promise<RunResult> {
  const raw = await rawRead(paths);
  const out = join(root, `objects-${runNo}`);
  const manifest = join(root, `manifest-${runNo++}.csv`);
  peakRss = 0;
  const inputs = await collectInputs([folder]);
  const started = performance.now();
  const cpu = cpuMs();
  const store = sink === 'folder' ? new FolderStore(out) : sink === 'http' ? new PresignStore({ url: `http://127.0.0.1:${await httpSinkPort()}/api/presign`, token: 'bench' }) : discard;
  const summary = await runProtect({ inputs, store, sequenceKey: 'Bench#2071!', manifest, jobs, kdf, parity, compress, progress: false });
  const seconds = (performance.now() - started) / 1000;
  const cpuUsed = cpuMs() - cpu;
  rmSync(out, { recursive: true, force: true });
  const mib = summary.inputBytes / MiB;
  return {
    label,
    records: summary.protected,
    seconds: +seconds.toFixed(3),
    mibPerSecond: +(mib / seconds).toFixed(1),
    recordsPerSecond: +(summary.protected / seconds).toFixed(2),
    ratio: +(mib / seconds / raw.mibPerSecond).toFixed(3),
    rawReadMiBPerSecond: Math.round(raw.mibPerSecond),
    cpuMsPerMiB: +(cpuUsed / mib).toFixed(2),
    rawReadCpuMsPerMiB: +raw.cpuMsPerMiB.toFixed(2),
    peakRssMiB: Math.round(peakRss / MiB),
    argon2idRuns: summary.argon2idRuns,
    journalSyncs: summary.journalSyncs,
  };
}

/**
 * What a run costs besides its bytes (workers started, journal opened and closed, manifest written, the
 * test KDF): the same command on one 4 KiB file. Wall seconds and CPU ms, median of `repeat`.
 */
async function fixedCost(): Promise<{ seconds: number; cpuMs: number }> {
  const dir = join(root, 'one-small-file');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'small.dcm'), dicomLike(4096, 99));
  const seconds: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const inputs = await collectInputs([dir]);
    const started = performance.now();
    const cpu = cpuMs();
    await runProtect({ inputs, store: new FolderStore(join(root, `small-out-${i}`)), sequenceKey: 'Bench#2071!', manifest: join(root, `small-${i}.csv`), jobs, kdf: TEST_KDF, progress: false });
    seconds.push((performance.now() - started) / 1000);
    cpus.push(cpuMs() - cpu);
  }
  return { seconds: median(seconds), cpuMs: median(cpus) };
}

/** `repeat` runs, each paired with a raw read just before it: the median ratio, the best run's figures. */
async function protectRun(label: string, kdf: KdfParams, parity: number, sink: Sink, paths: readonly string[], folder = input, compress = true): Promise<RunResult & { ratios: number[] }> {
  const all: RunResult[] = [];
  for (let i = 0; i < repeat; i++) all.push(await protectOnce(label, kdf, parity, sink, paths, folder, compress));
  const best = all.reduce((a, b) => (b.mibPerSecond > a.mibPerSecond ? b : a));
  const ratios = all.map((r) => r.ratio);
  return { ...best, ratio: +median(ratios).toFixed(3), ratios, cpuMsPerMiB: +median(all.map((r) => r.cpuMsPerMiB)).toFixed(2), peakRssMiB: Math.max(...all.map((r) => r.peakRssMiB)) };
}

/** ms per MiB of one stage on one thread (best of 3 over one file's bytes). */
async function perMiB(work: () => unknown | Promise<unknown>, mib: number): Promise<number> {
  let best = Infinity;
  await work();
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await work();
    best = Math.min(best, performance.now() - t);
  }
  return +(best / mib).toFixed(2);
}

/** What each stage of protecting one file costs one thread, per MiB of input (and the fixed costs). */
async function breakdown(path: string) {
  const bytes = new Uint8Array(await readFile(path));
  const mib = bytes.length / MiB;
  const key = new Uint8Array(16).fill(7);
  const chunk = 512 * 1024;
  // Parity as the writer folds it: each sealed piece into p = 2 rows (rsAccumulate, n = 11).
  const parityRows = [new Uint8Array(chunk), new Uint8Array(chunk)];
  const coefficients = parityCoefficients(11, 2, 3);
  const tmp = join(root, 'write-probe');
  const bundleStart = performance.now();
  await bundleProtectWorker();
  const workerBundleMs = Math.round(performance.now() - bundleStart);
  const poolStart = performance.now();
  const pool = new ProtectPool(jobs);
  await pool.ready();
  const workerBootMs = Math.round(performance.now() - poolStart);
  await pool.close();
  return {
    note: 'one thread, ms per MiB of input (a 16 MiB file), fixed costs in ms; a record is read → AES-GCM → AES-CTR (+ SHA-256, + parity fold) → written, records on `jobs` workers',
    readFile: await perMiB(() => readFile(path), mib),
    aes128GcmChunks: await perMiB(() => {
      for (let at = 0; at < bytes.length; at += chunk) {
        const c = createCipheriv('aes-128-gcm', key, new Uint8Array(12));
        c.update(bytes.subarray(at, at + chunk));
        c.final();
      }
    }, mib),
    aes128Ctr: await perMiB(() => {
      const c = createCipheriv('aes-128-ctr', key, new Uint8Array(16));
      for (let at = 0; at < bytes.length; at += chunk) c.update(bytes.subarray(at, at + chunk));
    }, mib),
    sha256: await perMiB(() => createHash('sha256').update(bytes).digest(), mib),
    reedSolomonP2: await perMiB(() => {
      for (let at = 0; at < bytes.length; at += chunk) rsAccumulate(parityRows, coefficients, bytes.subarray(at, at + chunk), 0);
    }, mib),
    writeFile: await perMiB(() => writeFile(tmp, bytes), mib),
    compressionSample256KiBMsPerFile: await perMiB(() => deflateRawSync(bytes.subarray(0, 256 * 1024)), 1),
    workerBundleMs,
    workerStartMs: workerBootMs,
  };
}

async function main() {
  mkdirSync(input, { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(input, `IM${String(i).padStart(5, '0')}.dcm`), dicomLike(sizeMiB * MiB, i + 1));
  const paths = (await collectInputs([input])).map((i) => i.path);

  // Argon2id alone, one thread: what a run pays once (FORMAT.md §3.1), with the CLI's implementation (the
  // argon2 package where it loads) and with the core's hash-wasm, which the app runs.
  const key = parseSequenceKey('Bench#2071!');
  const salt = new Uint8Array(16);
  const kdfMs = async (stretch: Stretch) => {
    await stretch(key, salt, DEFAULT_KDF);
    const runs = 3;
    const started = performance.now();
    for (let i = 0; i < runs; i++) await stretch(key, salt, DEFAULT_KDF);
    return (performance.now() - started) / runs;
  };
  const cli = await cliStretch();
  const argon2Ms = await kdfMs(cli);
  const argon2WasmMs = await kdfMs(stretchSequenceKey);

  await rawRead(paths);
  // The worker bundle is made once per process (a real run pays it once, ~0.06–0.1 s: `workerBundleMs`
  // below); made here so that every run below starts alike.
  await protectWorkerUrl();
  const fixed = await fixedCost();
  const runs = {
    folderNoParity: await protectRun('test KDF → folder, p = 0', TEST_KDF, 0, 'folder', paths),
    folderParity: await protectRun('test KDF → folder, p = 2', TEST_KDF, 2, 'folder', paths),
    discardNoParity: await protectRun('test KDF → discard (SHA-256), p = 0', TEST_KDF, 0, 'discard', paths),
    discardParity: await protectRun('test KDF → discard (SHA-256), p = 2', TEST_KDF, 2, 'discard', paths),
    defaultKdfFolder: await protectRun('default KDF → folder, p = 2 (the command as run)', DEFAULT_KDF, 2, 'folder', paths),
    defaultKdfDiscard: await protectRun('default KDF → discard, p = 2', DEFAULT_KDF, 2, 'discard', paths),
    httpParity: await protectRun('test KDF → HTTP PUT sink, p = 2', TEST_KDF, 2, 'http', paths),
    defaultKdfHttp: await protectRun('default KDF → HTTP PUT sink, p = 2 (as run)', DEFAULT_KDF, 2, 'http', paths),
  };
  // The command as run over a larger archive (the same files under archiveTimes × as many names): what a
  // run's one Argon2id and start cost once it is spread over more records, measured rather than subtracted.
  const archive = join(root, 'archive-large');
  mkdirSync(archive, { recursive: true });
  for (let k = 0; k < archiveTimes; k++) for (const [i, path] of paths.entries()) linkSync(path, join(archive, `S${k}-IM${String(i).padStart(5, '0')}.dcm`));
  const archivePaths = (await collectInputs([archive])).map((i) => i.path);
  const archiveRuns = {
    defaultKdfHttp: await protectRun(`default KDF → HTTP PUT sink, p = 2, ${archivePaths.length} files`, DEFAULT_KDF, 2, 'http', archivePaths, archive),
    defaultKdfDiscard: await protectRun(`default KDF → discard, p = 2, ${archivePaths.length} files`, DEFAULT_KDF, 2, 'discard', archivePaths, archive),
    defaultKdfFolder: await protectRun(`default KDF → folder, p = 2, ${archivePaths.length} files`, DEFAULT_KDF, 2, 'folder', archivePaths, archive),
  };
  // Uncompressed 16-bit CT with noise, as many PACS exports are: it deflates to about half (FORMAT.md §6.3),
  // so the CLI compresses it and DEFLATE becomes most of the work; `--no-compress` for comparison.
  const ct = join(root, 'ct-series');
  mkdirSync(ct, { recursive: true });
  for (let i = 0; i < ctFiles; i++) writeFileSync(join(ct, `CT${String(i).padStart(5, '0')}.dcm`), noisyCt(i + 1));
  const ctPaths = (await collectInputs([ct])).map((i) => i.path);
  const ctRuns = {
    compressed: await protectRun(`noisy CT → HTTP PUT sink, p = 2, as run`, DEFAULT_KDF, 2, 'http', ctPaths, ct),
    noCompress: await protectRun(`noisy CT --no-compress → HTTP PUT sink, p = 2`, DEFAULT_KDF, 2, 'http', ctPaths, ct, false),
  };
  // The same CT as a folder of single-slice files (what a scanner writes): per-record costs (13 objects, 13
  // PUTs, a journal entry) count for every 512 KiB.
  const slices = join(root, 'ct-slices');
  mkdirSync(slices, { recursive: true });
  for (let i = 0; i < sliceFiles; i++) writeFileSync(join(slices, `CT${String(i).padStart(5, '0')}.dcm`), noisyCt(i + 1, 1));
  const slicePaths = (await collectInputs([slices])).map((i) => i.path);
  const sliceRuns = {
    compressed: await protectRun(`CT slices → HTTP PUT sink, p = 2, as run`, DEFAULT_KDF, 2, 'http', slicePaths, slices),
    noCompress: await protectRun(`CT slices --no-compress → HTTP PUT sink, p = 2`, DEFAULT_KDF, 2, 'http', slicePaths, slices, false),
    noCompressFolder: await protectRun(`CT slices --no-compress → folder, p = 2`, DEFAULT_KDF, 2, 'folder', slicePaths, slices, false),
  };
  const stages = await breakdown(paths[0]!);
  clearInterval(sampler);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverage: loadavg().map((l) => +l.toFixed(1)) },
    folder: { files, sizeMiB, totalMiB: files * sizeMiB },
    jobs,
    repeat,
    argon2idMsPerRun: Math.round(argon2Ms),
    argon2idImplementation: cli === stretchSequenceKey ? 'hash-wasm' : 'argon2 (native)',
    argon2idHashWasmMs: Math.round(argon2WasmMs),
    runs,
    ctSeries: { files: ctFiles, sizeMiB: +((512 * 512 * CT_FRAMES * 2) / MiB).toFixed(1), note: `512 × 512 × ${CT_FRAMES} frames of 16-bit CT with ±20 noise, Explicit VR LE; deflates to ≈ 0.5`, runs: ctRuns },
    archive: { files: archivePaths.length, totalMiB: archivePaths.length * sizeMiB, runs: archiveRuns },
    ctSlices: { files: sliceFiles, sizeKiB: 512, note: 'one 512 × 512 16-bit CT slice with ±20 noise per file (Explicit VR LE), as scanners write a series', runs: sliceRuns },
    fixedCostPerRun: { seconds: +fixed.seconds.toFixed(3), cpuMs: Math.round(fixed.cpuMs), note: 'protect of one 4 KiB file (test KDF): worker start, journal, manifest; paid once per run' },
    steadyState: Object.fromEntries(
      Object.entries(runs).map(([k, r]) => {
        const mib = r.records * sizeMiB;
        // A run with the default KDF also pays its one Argon2id (measured above) once, whatever its size.
        const kdfMs = r.label.startsWith('default KDF') ? argon2Ms : 0;
        const mibPerSecond = mib / Math.max(0.001, r.seconds - fixed.seconds - kdfMs / 1000);
        return [k, { mibPerSecond: Math.round(mibPerSecond), ratio: +(mibPerSecond / r.rawReadMiBPerSecond).toFixed(3), cpuMsPerMiB: +(r.cpuMsPerMiB - (fixed.cpuMs + kdfMs) / mib).toFixed(2) }];
      }),
    ),
    breakdownMsPerMiB: stages,
  };
  writeFileSync(new URL('./cli-results.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`folder: ${files} × ${sizeMiB} MiB DICOM-like, ${jobs} worker(s), ${result.machine.cpus} CPU(s), load ${result.machine.loadAverage.join(' ')}, ${repeat} runs each`);
  console.log('ratio = protect MiB/s ÷ raw read MiB/s just before it (median of the runs); CPU = all threads, ms per MiB');
  for (const r of Object.values(runs)) {
    console.log(
      `${r.label.padEnd(50)}${r.mibPerSecond.toFixed(0).padStart(5)} MiB/s (raw ${String(r.rawReadMiBPerSecond).padStart(4)})  ratio ${r.ratio.toFixed(3)} [${r.ratios.map((x) => x.toFixed(2)).join(' ')}]  CPU ${r.cpuMsPerMiB} (raw ${r.rawReadCpuMsPerMiB})  peak RSS ${r.peakRssMiB} MiB  Argon2id ${r.argon2idRuns}`,
    );
  }
  console.log(`fixed cost of a run (one 4 KiB file): ${fixed.seconds.toFixed(2)} s, ${Math.round(fixed.cpuMs)} ms CPU (+ ${Math.round(argon2Ms)} ms Argon2id with the default KDF); without them (a long run's steady state, as for an archive):`);
  for (const [k, v] of Object.entries(result.steadyState)) console.log(`  ${runs[k as keyof typeof runs].label.padEnd(48)}${String(v.mibPerSecond).padStart(5)} MiB/s  ratio ${v.ratio.toFixed(3)}  CPU ${v.cpuMsPerMiB}`);
  console.log(`the command as run over a larger archive (${archivePaths.length} × ${sizeMiB} MiB, the folder's files under ${archiveTimes} names each):`);
  for (const r of Object.values(archiveRuns)) {
    console.log(`  ${r.label.padEnd(48)}${r.mibPerSecond.toFixed(0).padStart(5)} MiB/s (raw ${String(r.rawReadMiBPerSecond).padStart(4)})  ratio ${r.ratio.toFixed(3)} [${r.ratios.map((x) => x.toFixed(2)).join(' ')}]  CPU ${r.cpuMsPerMiB} (raw ${r.rawReadCpuMsPerMiB})  peak RSS ${r.peakRssMiB} MiB  Argon2id ${r.argon2idRuns}`);
  }
  console.log(`a CT series that compresses (${ctFiles} × 15.5 MiB, 16-bit with noise: the objects hold about half):`);
  for (const r of Object.values(ctRuns)) {
    console.log(`  ${r.label.padEnd(48)}${r.mibPerSecond.toFixed(0).padStart(5)} MiB/s (raw ${String(r.rawReadMiBPerSecond).padStart(4)})  ratio ${r.ratio.toFixed(3)} [${r.ratios.map((x) => x.toFixed(2)).join(' ')}]  CPU ${r.cpuMsPerMiB} (raw ${r.rawReadCpuMsPerMiB})  peak RSS ${r.peakRssMiB} MiB`);
  }
  console.log(`a CT series as single-slice files (${sliceFiles} × 512 KiB):`);
  for (const r of Object.values(sliceRuns)) {
    console.log(`  ${r.label.padEnd(48)}${r.mibPerSecond.toFixed(0).padStart(5)} MiB/s (raw ${String(r.rawReadMiBPerSecond).padStart(4)})  ratio ${r.ratio.toFixed(3)} [${r.ratios.map((x) => x.toFixed(2)).join(' ')}]  ${r.recordsPerSecond} rec/s  CPU ${r.cpuMsPerMiB} (raw ${r.rawReadCpuMsPerMiB})  peak RSS ${r.peakRssMiB} MiB`);
  }
  console.log(`Argon2id (64 MiB, 4 passes): ${result.argon2idMsPerRun} ms (${result.argon2idImplementation}; hash-wasm ${result.argon2idHashWasmMs} ms), once per run`);
  console.log('breakdown, one thread, ms per MiB:', Object.entries(stages).filter(([k]) => k !== 'note').map(([k, v]) => `${k} ${v}`).join(', '));
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    sinkProcess?.kill();
    rmSync(root, { recursive: true, force: true });
  });
