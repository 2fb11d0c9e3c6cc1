import { SCRATCH_DIRECTORY } from '../workers/scratch-file.js';

/**
 * Names and removes the engine's scratch files (workers/scratch-file.ts). A file is named after the tab
 * that asked for it, and each tab holds a Web Lock named after itself for as long as it lives: so a sweep
 * can tell files of a tab that closed or crashed (no lock) from those another open tab still reads.
 */
const LOCK_PREFIX = 'ehr-vault-scratch:';
const tab = crypto.randomUUID();
let counter = 0;
let holding = false;

function holdTabLock(): void {
  if (holding || !navigator.locks) return;
  holding = true;
  void navigator.locks.request(LOCK_PREFIX + tab, () => new Promise<void>(() => {}));
}

async function directory(): Promise<FileSystemDirectoryHandle | undefined> {
  try {
    return await (await navigator.storage.getDirectory()).getDirectoryHandle(SCRATCH_DIRECTORY, { create: false });
  } catch {
    return undefined;
  }
}

/** A fresh scratch file name owned by this tab. */
export function newScratchName(): string {
  holdTabLock();
  return `${tab}.${++counter}.bin`;
}

/**
 * Removes a scratch file; a file that was never created, or is gone already, is fine. Right after a cancel
 * the terminated workers may still hold their writers for a moment (the file is then locked), so a locked
 * file is retried for up to ~3 s; whatever is still left is swept once this tab has closed.
 */
export async function removeScratch(name: string): Promise<void> {
  const dir = await directory();
  if (!dir) return;
  for (let attempt = 0, wait = 20; ; attempt++, wait = Math.min(wait * 2, 500)) {
    try {
      await dir.removeEntry(name);
      return;
    } catch (error) {
      const locked = error instanceof DOMException && error.name !== 'NotFoundError';
      if (!locked || attempt >= 10) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Removes the scratch files of tabs that no longer run (crashed, closed mid-protect). Returns how many. */
export async function sweepScratch(): Promise<number> {
  const dir = await directory();
  if (!dir || !navigator.locks) return 0;
  const held = new Set(((await navigator.locks.query()).held ?? []).map((l) => l.name));
  let removed = 0;
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) {
    const owner = name.split('.')[0]!;
    if (owner === tab || held.has(LOCK_PREFIX + owner)) continue;
    await removeScratch(name);
    removed++;
  }
  return removed;
}

/** Names of the scratch files present, for tests and the storage report. */
export async function listScratch(): Promise<string[]> {
  const dir = await directory();
  if (!dir) return [];
  const names: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
  return names;
}

let copiesProbe: Promise<boolean> | undefined;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * Whether IndexedDB stores its own copy of a Blob (a browser profile on disk) or only a reference to the
 * Blob's source (private windows, where IndexedDB lives in memory). Fragments may be written to a scratch
 * file and the file removed once they are stored only in the first case; in the second, removing the file
 * made the stored fragments unreadable (uploads failed with ERR_FILE_NOT_FOUND). Probed once per page:
 * a 4-byte scratch file is stored, removed, and read back.
 */
export function indexedDbCopiesBlobs(): Promise<boolean> {
  copiesProbe ??= (async () => {
    const name = newScratchName();
    const dbName = `ehr-vault-probe-${name}`;
    try {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(SCRATCH_DIRECTORY, { create: true });
      const handle = await dir.getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      await writable.write(Uint8Array.of(1, 2, 3, 4));
      await writable.close();
      const open = indexedDB.open(dbName, 1);
      open.onupgradeneeded = () => open.result.createObjectStore('probe');
      const db = await request(open);
      try {
        const file = await handle.getFile();
        const tx = db.transaction('probe', 'readwrite');
        tx.objectStore('probe').put(file, 1);
        await new Promise<void>((resolve, reject) => {
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
        await dir.removeEntry(name);
        const back = await request(db.transaction('probe').objectStore('probe').get(1) as IDBRequest<Blob>);
        const bytes = new Uint8Array(await back.arrayBuffer());
        return bytes.length === 4 && bytes[3] === 4;
      } finally {
        db.close();
        indexedDB.deleteDatabase(dbName);
      }
    } catch {
      return false;
    } finally {
      await removeScratch(name);
    }
  })();
  return copiesProbe;
}
