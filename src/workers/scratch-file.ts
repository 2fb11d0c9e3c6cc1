/**
 * Scratch files in the origin-private file system (OPFS): where large protect and open results are
 * written, so that a GiB of ciphertext or plaintext is a file on disk rather than Blobs in memory.
 * Writers use synchronous access handles in 'readwrite-unsafe' mode, which lets several workers write
 * disjoint ranges of one file at once (Chromium 121+). The files are named and removed by the services
 * (services/scratch-files.ts); here they are only opened.
 */
export const SCRATCH_DIRECTORY = 'ehr-vault-scratch';

/** The subset of FileSystemSyncAccessHandle used here (lib.dom lacks the `mode` option). */
export interface SyncHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
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

/** Writers open in this thread, by file name; closed when the file is finished. */
const writers = new Map<string, Promise<SyncHandle>>();

export function scratchWriter(name: string): Promise<SyncHandle> {
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
    handle?.flush();
    handle?.close();
  }
}
