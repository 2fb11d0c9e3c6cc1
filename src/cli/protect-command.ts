import { statSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { EhrVaultError } from '../core/errors.js';
import type { BatchKdf } from '../core/batch-kdf.js';
import { fromHex, toHex } from '../core/bytes.js';
import { KDF_SALT_LENGTH, type KdfParams } from '../core/kdf.js';
import { systemRandomBytes } from '../core/keychain.js';
import { BatchCache } from './batch-cache.js';
import { generateSequenceKey, parseSequenceKey } from '../core/sequence-key.js';
import { encodeShareText } from '../core/share-text.js';
import { CliError } from './errors.js';
import { cliStretch } from './native-argon2.js';
import { inShard, type InputFile, type Shard } from './inputs.js';
import { checkJournalStorage, JournalWriter, readJournal, type ManifestRow } from './journal.js';
import { writeManifest } from './manifest.js';
import type { ObjectStore } from './storage.js';
import { ProtectPool, type SealedRecord } from './worker-pool.js';

export interface ProtectRunOptions {
  readonly inputs: readonly InputFile[];
  readonly store: ObjectStore;
  /** One key for the run; absent with `generateKeys`. */
  readonly sequenceKey?: string | undefined;
  readonly generateKeys?: boolean | undefined;
  readonly keyLength?: number | undefined;
  readonly manifest: string;
  readonly journal?: string | undefined;
  readonly shard?: Shard | undefined;
  /** Worker threads for the byte work; 0 = in this thread. */
  readonly jobs: number;
  readonly kdf: KdfParams;
  readonly compress?: boolean | undefined;
  /** Reed–Solomon parity objects per record (FORMAT.md §4.4); default 2, as the app. */
  readonly parity?: number | undefined;
  readonly progress?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Bytes of records being sealed or sealed and not yet stored (the run's memory); default 64 MiB. */
  readonly maxBytesInFlight?: number | undefined;
}

export interface ProtectSummary {
  readonly selected: number;
  readonly alreadyDone: number;
  readonly protected: number;
  readonly failed: { input: string; code: string; message: string }[];
  readonly resumedCleanups: number;
  readonly manifest: string;
  readonly manifestRows: number;
  readonly seconds: number;
  readonly inputBytes: number;
  readonly recordsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly interrupted: boolean;
  /** Argon2id runs of this run: 1 with one sequence key (the batch, FORMAT.md §3), one per record with --generate-keys. */
  readonly argon2idRuns: number;
  /** Journal datasyncs (group commit: about one per flush, not two per record). */
  readonly journalSyncs: number;
}

/** Records under way at once (sealing, sealed, storing), and the bytes they may hold together. */
const MAX_RECORDS_IN_FLIGHT = 64;
const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

/** Errors that stop the whole run (the store or the local disk), rather than one input. */
function fatal(error: unknown): boolean {
  return error instanceof EhrVaultError && ['STORAGE_UNAUTHORIZED', 'STORAGE_REJECTED', 'STORAGE_UNAVAILABLE', 'OUTPUT_FAILED'].includes(error.code as string);
}

/**
 * Bulk protect with a journal: for each input, `begin` (record id, share text, object names) is flushed before
 * any upload and `done` after the last one. A rerun skips done inputs, deletes the objects of begun ones
 * (killed mid-upload) and protects them again, so every input ends in the store exactly once.
 */
export async function runProtect(o: ProtectRunOptions): Promise<ProtectSummary> {
  const started = Date.now();
  const journalPath = o.journal ?? `${o.manifest}.journal`;
  const state = await readJournal(journalPath);
  checkJournalStorage(state, o.store.description, journalPath);
  if (!o.generateKeys) {
    if (o.sequenceKey === undefined) throw new CliError('SEQUENCE_KEY_NEEDED', 'protect needs a sequence key.', 'Pass --sequence-key-file <file>, or --generate-keys for a new key per record (written to the manifest).');
    parseSequenceKey(o.sequenceKey);
  }
  const selected = inShard(o.inputs, o.shard);
  const journal = await JournalWriter.open(journalPath);
  if (state.storage === undefined) await journal.append({ t: 'run', storage: o.store.description, at: new Date().toISOString() });

  // The workers boot (bundle, start) while the batch's Argon2id runs here.
  const pool = new ProtectPool(o.jobs);
  try {
    return await protectAll(o, { started, journal, state, selected, pool });
  } finally {
    await pool.close();
  }
}

async function protectAll(o: ProtectRunOptions, r: { started: number; journal: JournalWriter; state: Awaited<ReturnType<typeof readJournal>>; selected: InputFile[]; pool: ProtectPool }): Promise<ProtectSummary> {
  const { started, journal, state, selected, pool } = r;
  // One sequence key: the run is one batch with one random salt and one Argon2id (FORMAT.md §3). A resumed
  // run keeps the journal's salt, so all its records, before and after the interruption, share one batch.
  const batches = new BatchCache(await cliStretch());
  let workerKdfRuns = 0;
  let batch: BatchKdf | undefined;
  if (!o.generateKeys) {
    const j = state.batch;
    const resumed = j && j.memoryKiB === o.kdf.memoryKiB && j.passes === o.kdf.passes && j.parallelism === o.kdf.parallelism ? fromHex(j.salt) : undefined;
    const salt = resumed ?? systemRandomBytes(KDF_SALT_LENGTH);
    if (!resumed) await journal.append({ t: 'batch', salt: toHex(salt), ...o.kdf });
    batch = await batches.get(o.sequenceKey!, salt, o.kdf);
  }

  // Interrupted records: their objects may be partly in the store; delete them before protecting again.
  let resumedCleanups = 0;
  for (const [input, begun] of state.begun) {
    await o.store.deleteMany(begun.names);
    await journal.append({ t: 'abandoned', input, recordId: begun.recordId });
    resumedCleanups++;
  }

  const pending = selected.filter((i) => !state.done.has(i.key));
  const rows = new Map(state.done);
  const failed: ProtectSummary['failed'] = [];
  const bar = o.progress
    ? new cliProgress.SingleBar(
        { format: 'protect {bar} {percentage}% | {value}/{total} records | {rate} rec/s {mbps} MB/s | ETA {eta_formatted}', etaBuffer: 50, hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(pending.length, 0, { rate: '0.0', mbps: '0.0' });
  let bytes = 0;
  let count = 0;
  let stopError: unknown;
  const inFlight = new Set<Promise<void>>();
  // Records sealed but not yet stored wait for the journal's sync, a presign request and their uploads: many
  // small records must be under way at once for the workers to stay busy (a 512 KiB CT slice is sealed in
  // ≈ 1.5 ms). Memory is bounded by bytes, not by a count: a record holds its file's size from before it
  // is sealed, then its objects' size until they are stored. One record is always let through.
  const maxBytes = o.maxBytesInFlight ?? MAX_BYTES_IN_FLIGHT;
  let heldBytes = 0;
  let waiting: (() => void)[] = [];
  const free = (n: number) => {
    heldBytes -= n;
    const wake = waiting;
    waiting = [];
    for (const w of wake) w();
  };
  const reserve = async (n: number) => {
    while (heldBytes > 0 && heldBytes + n > maxBytes) await new Promise<void>((resolve) => waiting.push(resolve));
    heldBytes += n;
  };

  const one = async (input: InputFile): Promise<void> => {
    const sequenceKey = o.generateKeys ? generateSequenceKey(o.keyLength ?? 12).text : o.sequenceKey!;
    let estimate = 0;
    try {
      estimate = statSync(input.path).size;
    } catch {
      /* unreadable: the seal reports it */
    }
    await reserve(estimate);
    let held = estimate;
    try {
      if (stopError) return;
      const result = await pool.seal({ path: input.path, name: input.key.split('/').pop() ?? input.key, sequenceKey, kdf: o.kdf, batch, digests: o.store.needsDigests ?? true, compress: o.compress, parity: o.parity });
      workerKdfRuns += result.kdfRuns;
      if (stopError) {
        result.release();
        return;
      }
      const size = result.sizes.reduce((a, b) => a + b, 0);
      heldBytes += size - held;
      held = size;
      await storeSealed(result);
    } catch (error) {
      if (fatal(error)) {
        stopError ??= error;
        return;
      }
      const e = error instanceof EhrVaultError ? error : undefined;
      const entry = { input: input.key, code: (e?.code as string | undefined) ?? 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
      failed.push(entry);
      await journal.append({ t: 'failed', ...entry }).catch(() => {});
    } finally {
      free(held);
    }
    const seconds = Math.max(0.001, (Date.now() - started) / 1000);
    bar?.increment(1, { rate: (count / seconds).toFixed(1), mbps: (bytes / 1e6 / seconds).toFixed(1) });

    async function storeSealed(result: SealedRecord): Promise<void> {
      const shareText = encodeShareText({ recordId: result.recordId, recordKey: result.recordKey });
      try {
        await journal.append({ t: 'begin', input: input.key, recordId: result.recordId, shareText, names: result.names });
      } catch (error) {
        result.release();
        throw error;
      }
      // Journalled first: a run killed while the objects are stored deletes them when it resumes.
      await result.deliver(o.store);
      const row: ManifestRow = {
        input: input.key,
        name: input.key.split('/').pop() ?? input.key,
        recordId: result.recordId,
        shareText,
        sequenceKey: o.generateKeys ? sequenceKey : '',
        storedAs: result.storedAs,
        type: result.type,
        reason: result.reason ?? '',
        bytes: result.inputBytes,
        objects: result.names.length,
        protectedAt: new Date().toISOString(),
      };
      await journal.append({ t: 'done', input: input.key, row });
      rows.set(input.key, row);
      bytes += result.inputBytes;
      count++;
    }
  };

  try {
    for (const input of pending) {
      if (stopError || o.signal?.aborted) break;
      while (inFlight.size >= MAX_RECORDS_IN_FLIGHT) await Promise.race(inFlight);
      const p = one(input).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } finally {
    bar?.stop();
    await journal.close();
    await batches.clear();
  }
  const ordered = [...rows.values()].sort((a, b) => (a.input < b.input ? -1 : 1));
  await writeManifest(o.manifest, ordered);
  if (stopError) throw stopError;
  const seconds = (Date.now() - started) / 1000;
  return {
    selected: selected.length,
    alreadyDone: selected.length - pending.length,
    protected: count,
    failed,
    resumedCleanups,
    manifest: o.manifest,
    manifestRows: ordered.length,
    seconds,
    inputBytes: bytes,
    recordsPerSecond: count / Math.max(seconds, 0.001),
    megabytesPerSecond: bytes / 1e6 / Math.max(seconds, 0.001),
    interrupted: o.signal?.aborted ?? false,
    argon2idRuns: batches.runs + workerKdfRuns,
    journalSyncs: journal.syncs,
  };
}
