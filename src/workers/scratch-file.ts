/**
 * Scratch files in the origin-private file system (OPFS): where large protect and open results are
 * written, so that a GiB of ciphertext or plaintext is a file on disk rather than Blobs in memory.
 * Writers use synchronous access handles in 'readwrite-unsafe' mode, which lets several workers write
 * disjoint ranges of one file at once (Chromium 121+). Elsewhere (Firefox, Safari, Chrome 120, Samsung
 * Internet 23–24) the mode is silently ignored and a file has one writer at a time: a second worker's
 * handle is refused ('No modification allowed'). There the pool workers *relay* their output to the
 * engine worker, the file's single writer (`relayWrites` / `writeRelayed`); `probeSharedWriters` tells
 * which case holds. The files are named and removed by the services (services/scratch-files.ts); here
 * they are only opened.
 */
import { engineStep } from './engine-step.js';

export const SCRATCH_DIRECTORY = 'ehr-vault-scratch';

/**
 * The subset of FileSystemSyncAccessHandle used here (lib.dom lacks the `mode` option). Safari before 17
 * and Chromium before 108 return Promises from truncate, flush and close, so callers await them.
 */
export interface SyncHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void | Promise<void>;
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}

interface SyncHandleFactory {
  createSyncAccessHandle(options?: { mode: 'readwrite-unsafe' }): Promise<SyncHandle>;
}

async function fileHandle(name: string, create: boolean): Promise<FileSystemFileHandle> {
  const root = await navigator.storage.getDirectory();
  const directory = await root.getDirectoryHandle(SCRATCH_DIRECTORY, { create });
  return directory.getFileHandle(name, { create });
}

/** Opens a writer on scratch file `name` that other workers may write to at the same time. */
export async function openScratchWriter(name: string, create = false): Promise<SyncHandle> {
  const handle = (await fileHandle(name, create)) as unknown as SyncHandleFactory;
  return handle.createSyncAccessHandle({ mode: 'readwrite-unsafe' });
}

/** The scratch file as a File (a disk-backed Blob) once every writer has closed. */
export async function scratchFile(name: string): Promise<File> {
  return (await fileHandle(name, false)).getFile();
}

/**
 * Whether several handles may write one file at once here. Opens a second handle while a first is open:
 * where 'readwrite-unsafe' is not honoured the second is refused. The file must exist; both are closed.
 */
export async function probeSharedWriters(name: string): Promise<boolean> {
  const first = await openScratchWriter(name);
  try {
    engineStep('scratch file: opening a second writer beside the first');
    const second = await openScratchWriter(name);
    await second.close();
    return true;
  } catch {
    return false;
  } finally {
    await first.close();
  }
}

/** One write a pool worker made while relaying: the bytes and where they go in the file. */
export interface RelayedWrite {
  readonly at: number;
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/** Writes collected in this thread instead of written (see `relayWrites`); undefined when writing directly. */
let relayed: RelayedWrite[] | undefined;

/**
 * Runs `work` with this thread's scratch writers collecting their writes instead of opening the file, and
 * returns what they collected, for the file's single writer in another thread (`writeRelayed`).
 */
export async function relayWrites(work: () => Promise<unknown>): Promise<RelayedWrite[]> {
  relayed = [];
  try {
    await work();
    return relayed;
  } finally {
    relayed = undefined;
  }
}

/** The ArrayBuffers of `writes` that may be transferred: whole buffers, each once. */
export function transferables(writes: readonly RelayedWrite[]): ArrayBuffer[] {
  return wholeBuffers(writes.map((w) => w.bytes));
}

/** The buffers that these arrays fill whole: those can be transferred; parts of a larger buffer are copied. */
export function wholeBuffers(arrays: readonly Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const bytes of arrays) if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) buffers.add(bytes.buffer);
  return [...buffers];
}

/** Writes what a pool worker relayed, with this thread's writer on file `name`. */
export async function writeRelayed(name: string, writes: readonly RelayedWrite[]): Promise<void> {
  if (!writers.has(name)) engineStep('scratch file: opening the single writer');
  const writer = await scratchWriter(name);
  for (const { at, bytes } of writes) writer.write(bytes, { at });
}

function collectingWriter(into: RelayedWrite[]): SyncHandle {
  return {
    write(buffer, { at }) {
      // Part of a larger buffer (which may be reused) is copied; a whole buffer is handed over as it is.
      const whole = buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.buffer instanceof ArrayBuffer;
      into.push({ at, bytes: whole ? (buffer as Uint8Array<ArrayBuffer>) : buffer.slice() });
      return buffer.byteLength;
    },
    truncate() {},
    flush() {},
    close() {},
  };
}

/** Writers open in this thread, by file name; closed when the file is finished. */
const writers = new Map<string, Promise<SyncHandle>>();

export function scratchWriter(name: string): Promise<SyncHandle> {
  if (relayed) return Promise.resolve(collectingWriter(relayed));
  let writer = writers.get(name);
  if (!writer) {
    writer = openScratchWriter(name);
    writers.set(name, writer);
    writer.catch(() => writers.delete(name));
  }
  return writer;
}

export async function closeScratchWriters(): Promise<void> {
  const open = [...writers.values()];
  writers.clear();
  for (const writer of open) {
    const handle = await writer.catch(() => undefined);
    await handle?.flush();
    await handle?.close();
  }
}
