import type { VaultDb } from './open-vault-db.js';
import { objectCount, type FragmentEntry, type OutboxEntry, type RecordEntry, type RecordHealth } from './schema.js';
import { StorageError } from './storage-error.js';
import { inTransaction, issueAll } from './transaction.js';

/** Positions are u16 in the format; this bounds a record's key range. */
const MAX_POSITION = 0xffff;

function fragmentRange(recordId: string): IDBKeyRange {
  return IDBKeyRange.bound([recordId, 0], [recordId, MAX_POSITION]);
}

export interface NewRecord {
  readonly record: RecordEntry;
  readonly fragments: readonly FragmentEntry[];
  readonly outbox: readonly OutboxEntry[];
}

/**
 * Writes a record's catalog entry, all its fragments and its outbox entries in ONE transaction: either
 * the record is fully stored and queued for upload, or (quota, crash, closed tab) nothing of it is.
 * Everything slow (digests, object names) must be computed by the caller before this is called.
 */
export async function saveNewRecord(db: VaultDb, input: NewRecord): Promise<void> {
  const { record, fragments, outbox } = input;
  if (fragments.length !== objectCount(record) || fragments.some((f) => f.recordId !== record.recordId) || outbox.some((o) => o.recordId !== record.recordId)) {
    throw new StorageError('STORAGE_WRITE_FAILED', 'Inconsistent record: fragments or outbox entries do not match the catalog entry.', { recordId: record.recordId });
  }
  await inTransaction(db, ['records', 'fragments', 'outbox'], 'readwrite', 'save the record', async (tx) => {
    const records = tx.objectStore('records');
    if ((await records.getKey(record.recordId)) !== undefined) {
      throw new StorageError('RECORD_EXISTS', 'A record with this id is already stored.', { recordId: record.recordId });
    }
    const fragmentStore = tx.objectStore('fragments');
    const outboxStore = tx.objectStore('outbox');
    // Issued together, awaited together: one round of requests, one commit.
    await issueAll((track) => {
      track(records.add(record));
      for (const fragment of fragments) track(fragmentStore.add(fragment));
      for (const entry of outbox) track(outboxStore.put(entry));
    });
  });
}

export async function getRecord(db: VaultDb, recordId: string): Promise<RecordEntry | undefined> {
  return inTransaction(db, ['records'], 'readonly', 'read the record', (tx) => tx.objectStore('records').get(recordId));
}

/** Oldest first. */
export async function listRecords(db: VaultDb): Promise<RecordEntry[]> {
  return inTransaction(db, ['records'], 'readonly', 'list records', (tx) => tx.objectStore('records').index('by-created').getAll());
}

/** A record's fragment rows, by position (blobs included when cached). */
export async function getFragments(db: VaultDb, recordId: string): Promise<FragmentEntry[]> {
  return inTransaction(db, ['fragments'], 'readonly', 'read fragments', (tx) => tx.objectStore('fragments').getAll(fragmentRange(recordId)));
}

/**
 * Caches downloaded fragments. Adds `record` only when the catalog has no entry yet (a record fetched
 * from the cloud); existing rows keep their upload state and digest, and gain the blob.
 */
export async function cacheFragments(db: VaultDb, record: RecordEntry | null, fragments: readonly FragmentEntry[]): Promise<void> {
  await inTransaction(db, ['records', 'fragments'], 'readwrite', 'cache fragments', async (tx) => {
    const records = tx.objectStore('records');
    const store = tx.objectStore('fragments');
    const [existingRecord, ...existing] = await Promise.all([
      record ? records.getKey(record.recordId) : Promise.resolve(undefined),
      ...fragments.map((f) => store.get([f.recordId, f.position])),
    ]);
    await issueAll((track) => {
      if (record && existingRecord === undefined) track(records.add(record));
      fragments.forEach((fragment, i) => {
        const old = existing[i];
        track(store.put(old ? { ...old, blob: fragment.blob, sha256: old.sha256 ?? fragment.sha256 } : fragment));
      });
    });
  });
}

/**
 * Removes a record from this device and queues the deletion of its fragments in the cloud, in one
 * transaction. Pending uploads of it are replaced by deletes (one entry per fragment position).
 */
export async function removeRecordAndQueueDeletes(db: VaultDb, recordId: string, now: number, makeDelete: (fragment: FragmentEntry) => OutboxEntry): Promise<number> {
  return inTransaction(db, ['records', 'fragments', 'outbox'], 'readwrite', 'delete the record', async (tx) => {
    const records = tx.objectStore('records');
    const fragments = tx.objectStore('fragments');
    const outbox = tx.objectStore('outbox');
    const [record, rows] = await Promise.all([records.get(recordId), fragments.getAll(fragmentRange(recordId))]);
    if (record === undefined) throw new StorageError('RECORD_NOT_FOUND', 'No such record on this device.', { recordId });
    const deletes = rows.map((row) => ({ ...makeDelete(row), createdAt: now, updatedAt: now }));
    await issueAll((track) => {
      track(records.delete(recordId));
      track(fragments.delete(fragmentRange(recordId)));
      for (const entry of deletes) track(outbox.put(entry));
    });
    return deletes.length;
  });
}

/** Keeps the result of a check (or repair) with the record; nothing when the record is gone. */
export async function setRecordHealth(db: VaultDb, recordId: string, health: RecordHealth): Promise<RecordEntry | undefined> {
  return inTransaction(db, ['records'], 'readwrite', 'save the record health', async (tx) => {
    const records = tx.objectStore('records');
    const record = await records.get(recordId);
    if (record === undefined) return undefined;
    const updated = { ...record, health };
    await records.put(updated);
    return updated;
  });
}

/**
 * Replaces fragment rows whole (a repair re-creates objects: new head nonce, so new digest), keeping
 * the bytes on this device so the next repair can start from them.
 */
export async function replaceFragments(db: VaultDb, fragments: readonly FragmentEntry[]): Promise<void> {
  await inTransaction(db, ['fragments'], 'readwrite', 'save repaired fragments', async (tx) => {
    const store = tx.objectStore('fragments');
    await issueAll((track) => fragments.forEach((f) => track(store.put(f))));
  });
}
