import { open, readFile, type FileHandle } from 'node:fs/promises';
import { CliError, ioError } from './errors.js';

/** What a protect run appends, one JSON object per line, each written and flushed before the next step. */
export type JournalEntry =
  | { readonly t: 'run'; readonly storage: string; readonly at: string }
  /**
   * The run's Argon2id salt (FORMAT.md §3; public, it is in every object head): a resumed run keeps it, so
   * the whole run stays one batch. X itself is never written to disk.
   */
  | { readonly t: 'batch'; readonly salt: string; readonly memoryKiB: number; readonly passes: number; readonly parallelism: number }
  /** Before the first object of a record is uploaded: enough to delete its objects if the run dies. */
  | { readonly t: 'begin'; readonly input: string; readonly recordId: string; readonly shareText: string; readonly names: readonly string[] }
  | { readonly t: 'done'; readonly input: string; readonly row: ManifestRow }
  /** A begun record's objects were deleted after an interruption; the input is protected again. */
  | { readonly t: 'abandoned'; readonly input: string; readonly recordId: string }
  | { readonly t: 'failed'; readonly input: string; readonly code: string; readonly message: string };

export interface ManifestRow {
  readonly input: string;
  readonly name: string;
  readonly recordId: string;
  readonly shareText: string;
  /** Only with --generate-keys: the key made for this record. */
  readonly sequenceKey: string;
  readonly storedAs: string;
  readonly type: string;
  readonly reason: string;
  readonly bytes: number;
  readonly objects: number;
  readonly protectedAt: string;
}

export interface JournalState {
  readonly storage: string | undefined;
  readonly done: Map<string, ManifestRow>;
  /** Begun and neither done nor abandoned: objects may be in the store. */
  readonly begun: Map<string, { recordId: string; names: readonly string[] }>;
  /** The last batch salt the journal names (hex), with its Argon2id parameters. */
  readonly batch: { salt: string; memoryKiB: number; passes: number; parallelism: number } | undefined;
}

/** Replays a journal; a line cut short by a kill (the last one) is ignored. */
export async function readJournal(path: string): Promise<JournalState> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw ioError('INPUT_UNREADABLE', path, error);
  }
  let storage: string | undefined;
  const done = new Map<string, ManifestRow>();
  const begun = new Map<string, { recordId: string; names: readonly string[] }>();
  let batch: JournalState['batch'];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      continue;
    }
    if (entry.t === 'run') storage ??= entry.storage;
    else if (entry.t === 'batch') batch = { salt: entry.salt, memoryKiB: entry.memoryKiB, passes: entry.passes, parallelism: entry.parallelism };
    else if (entry.t === 'begin') begun.set(entry.input, { recordId: entry.recordId, names: entry.names });
    else if (entry.t === 'done') {
      begun.delete(entry.input);
      done.set(entry.input, entry.row);
    } else if (entry.t === 'abandoned') begun.delete(entry.input);
  }
  return { storage, done, begun, batch };
}

export function checkJournalStorage(state: JournalState, storage: string, path: string): void {
  if (state.storage !== undefined && state.storage !== storage) {
    throw new CliError('JOURNAL_MISMATCH', `The journal ${path} belongs to a run against ${state.storage}, not ${storage}.`, 'Resume with the same --storage, or give another --manifest/--journal for a new run.', { journal: path, storage: state.storage });
  }
}

/**
 * Appends entries in order, each flushed to disk before its promise resolves. Owner-only permissions.
 * Group commit: entries appended while a flush is under way are written and flushed together by the next
 * one, so N records in flight cost about one datasync per flush instead of two per record (measured in
 * docs/CLI.md), with the same guarantee (an entry's promise resolves only once it is on disk).
 */
export class JournalWriter {
  private queue: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  /** datasync calls made (the bench reports them). */
  syncs = 0;
  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<JournalWriter> {
    try {
      const handle = await open(path, 'a', 0o600);
      await handle.chmod(0o600);
      return new JournalWriter(handle);
    } catch (error) {
      throw ioError('OUTPUT_FAILED', path, error);
    }
  }

  append(entry: JournalEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.handle.write(batch.map((b) => b.line).join(''));
        await this.handle.datasync();
        this.syncs++;
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.flushing = undefined;
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.handle.close();
  }
}
