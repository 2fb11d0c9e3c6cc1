import type { VaultDb } from './open-vault-db.js';
import { assertCanSucceed, claim, fail, isDue, release, retry, retryLater } from './outbox-transitions.js';
import { objectCount, type FragmentEntry, type OutboxEntry, type OutboxState, type RecordEntry, type RecordSync, type StoredError } from './schema.js';
import { inTransaction, issueAll } from './transaction.js';

type OutboxKey = [string, number];

function keyOf(entry: Pick<OutboxEntry, 'recordId' | 'position'>): OutboxKey {
  return [entry.recordId, entry.position];
}

function stateRange(state: OutboxState, upTo = Number.MAX_VALUE): IDBKeyRange {
  return IDBKeyRange.bound([state, -Number.MAX_VALUE], [state, upTo]);
}

/** An entry the runner now owns, with the fragment blob a `put` needs. */
export interface ClaimedEntry {
  readonly entry: OutboxEntry;
  readonly fragment: FragmentEntry | undefined;
}

export async function listOutbox(db: VaultDb): Promise<OutboxEntry[]> {
  return inTransaction(db, ['outbox'], 'readonly', 'read the outbox', (tx) => tx.objectStore('outbox').getAll());
}

/** Pending entries whose time has come, oldest due first. */
export async function dueEntries(db: VaultDb, now: number, limit: number): Promise<OutboxEntry[]> {
  return inTransaction(db, ['outbox'], 'readonly', 'read the outbox', (tx) => tx.objectStore('outbox').index('by-state-due').getAll(stateRange('pending', now), limit));
}

/** When the next pending entry becomes due (epoch ms), or null when nothing is pending. */
export async function nextDueAt(db: VaultDb): Promise<number | null> {
  return inTransaction(db, ['outbox'], 'readonly', 'read the outbox', async (tx) => {
    const cursor = await tx.objectStore('outbox').index('by-state-due').openCursor(stateRange('pending'));
    return cursor ? cursor.value.nextAttemptAt : null;
  });
}

/**
 * Marks the given entries in-flight if they are still due, and returns them with their fragments. An
 * entry changed by another transaction since it was listed (e.g. replaced by a delete) is skipped.
 */
export async function claimEntries(db: VaultDb, entries: readonly OutboxEntry[], now: number): Promise<ClaimedEntry[]> {
  return inTransaction(db, ['outbox', 'fragments'], 'readwrite', 'start uploads', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const fragments = tx.objectStore('fragments');
    const current = await Promise.all(entries.map((e) => outbox.get(keyOf(e))));
    const claimable = current.filter((e): e is OutboxEntry => e !== undefined && isDue(e, now));
    const claimed = claimable.map((e) => claim(e, now));
    const [rows] = await Promise.all([
      Promise.all(claimed.map((e) => (e.op === 'put' ? fragments.get(keyOf(e)) : Promise.resolve(undefined)))),
      issueAll((track) => claimed.forEach((e) => track(outbox.put(e)))),
    ]);
    return claimed.map((entry, i) => ({ entry, fragment: rows[i] }));
  });
}

function nextSync(record: RecordEntry, uploaded: number, now: number, lastError: StoredError | null, failed: boolean): RecordSync {
  const state = failed ? 'failed' : uploaded >= objectCount(record) ? 'synced' : uploaded > 0 ? 'uploading' : 'local';
  return { state, uploaded, updatedAt: now, lastError };
}

export interface CompletedEntry {
  /** The record after the change, or undefined when it is no longer on this device (deleted). */
  readonly record: RecordEntry | undefined;
}

/**
 * Records a confirmed transfer: deletes the entry and, for a put, marks the fragment uploaded and
 * advances the record's sync state, all in one transaction. If the entry was replaced meanwhile (a
 * delete queued while the put was in flight), the newer entry is left alone.
 */
export async function completeEntry(db: VaultDb, claimed: OutboxEntry, now: number): Promise<CompletedEntry> {
  return inTransaction(db, ['outbox', 'fragments', 'records'], 'readwrite', 'record an upload', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const fragments = tx.objectStore('fragments');
    const records = tx.objectStore('records');
    const [current, fragment, record] = await Promise.all([outbox.get(keyOf(claimed)), fragments.get(keyOf(claimed)), records.get(claimed.recordId)]);
    let updated = record;
    await issueAll((track) => {
      if (current !== undefined && current.op === claimed.op && current.state === 'in-flight') {
        assertCanSucceed(current);
        track(outbox.delete(keyOf(claimed)));
      }
      if (claimed.op === 'put' && fragment !== undefined && fragment.uploadedAt === null) {
        track(fragments.put({ ...fragment, uploadedAt: now }));
        if (record !== undefined) {
          const failedStill = record.sync.state === 'failed';
          updated = { ...record, sync: nextSync(record, record.sync.uploaded + 1, now, failedStill ? record.sync.lastError : null, failedStill) };
          track(records.put(updated));
        }
      }
    });
    return { record: updated };
  });
}

/** Transient failure: count the attempt and make the entry due again after `delayMs`. */
export async function rescheduleEntry(db: VaultDb, claimed: OutboxEntry, error: StoredError, now: number, delayMs: number): Promise<OutboxEntry | undefined> {
  return updateInFlight(db, claimed, (entry) => retryLater(entry, error, now, delayMs));
}

/** Interrupted (stopped, offline): pending again, no attempt counted. */
export async function releaseEntry(db: VaultDb, claimed: OutboxEntry, now: number): Promise<OutboxEntry | undefined> {
  return updateInFlight(db, claimed, (entry) => release(entry, now));
}

/** Needs a person: the entry stops, and the record shows why. */
export async function failEntry(db: VaultDb, claimed: OutboxEntry, error: StoredError, now: number): Promise<{ entry: OutboxEntry | undefined; record: RecordEntry | undefined }> {
  return inTransaction(db, ['outbox', 'records'], 'readwrite', 'record a failed upload', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const records = tx.objectStore('records');
    const [current, record] = await Promise.all([outbox.get(keyOf(claimed)), records.get(claimed.recordId)]);
    if (current === undefined || current.op !== claimed.op || current.state !== 'in-flight') return { entry: current, record };
    const failed = fail(current, error, now);
    const updated = record !== undefined && failed.op === 'put' ? { ...record, sync: nextSync(record, record.sync.uploaded, now, error, true) } : record;
    await issueAll((track) => {
      track(outbox.put(failed));
      if (updated !== record && updated !== undefined) track(records.put(updated));
    });
    return { entry: failed, record: updated };
  });
}

async function updateInFlight(db: VaultDb, claimed: OutboxEntry, change: (entry: OutboxEntry) => OutboxEntry): Promise<OutboxEntry | undefined> {
  return inTransaction(db, ['outbox'], 'readwrite', 'update the outbox', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const current = await outbox.get(keyOf(claimed));
    if (current === undefined || current.op !== claimed.op || current.state !== 'in-flight') return current;
    const next = change(current);
    await outbox.put(next);
    return next;
  });
}

/**
 * Crash recovery, run by the single runner when it starts: whatever a closed tab left in-flight is
 * pending again. Safe because only the lock holder runs, and re-PUTting a name is idempotent.
 */
export async function recoverInFlight(db: VaultDb, now: number): Promise<number> {
  return inTransaction(db, ['outbox'], 'readwrite', 'resume uploads', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const stuck = await outbox.index('by-state-due').getAll(stateRange('in-flight'));
    await issueAll((track) => stuck.forEach((entry) => track(outbox.put(release(entry, now)))));
    return stuck.length;
  });
}

/** After a person fixed the cause (token, settings): failed entries (of one record, or all) go again. */
export async function retryFailedEntries(db: VaultDb, now: number, recordId?: string): Promise<number> {
  return inTransaction(db, ['outbox', 'records'], 'readwrite', 'retry uploads', async (tx) => {
    const outbox = tx.objectStore('outbox');
    const records = tx.objectStore('records');
    const failed = (await outbox.index('by-state-due').getAll(stateRange('failed'))).filter((e) => recordId === undefined || e.recordId === recordId);
    const ids = [...new Set(failed.map((e) => e.recordId))];
    const rows = await Promise.all(ids.map((id) => records.get(id)));
    await issueAll((track) => {
      for (const entry of failed) track(outbox.put(retry(entry, now)));
      for (const r of rows) if (r !== undefined) track(records.put({ ...r, sync: nextSync(r, r.sync.uploaded, now, null, false) }));
    });
    return failed.length;
  });
}

export interface OutboxCounts {
  readonly pending: number;
  readonly inFlight: number;
  readonly failed: number;
}

export async function countOutbox(db: VaultDb): Promise<OutboxCounts> {
  return inTransaction(db, ['outbox'], 'readonly', 'read the outbox', async (tx) => {
    const index = tx.objectStore('outbox').index('by-state-due');
    const [pending, inFlight, failed] = await Promise.all([index.count(stateRange('pending')), index.count(stateRange('in-flight')), index.count(stateRange('failed'))]);
    return { pending, inFlight, failed };
  });
}
