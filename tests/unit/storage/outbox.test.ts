import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  claimEntries,
  completeEntry,
  countOutbox,
  dueEntries,
  failEntry,
  listOutbox,
  nextDueAt,
  recoverInFlight,
  releaseEntry,
  rescheduleEntry,
  retryFailedEntries,
} from '../../../src/storage/outbox-repository.js';
import { claim, fail, isDue, newOutboxEntry, release, retry, retryLater, assertCanSucceed } from '../../../src/storage/outbox-transitions.js';
import { getFragments, getRecord, removeRecordAndQueueDeletes, saveNewRecord } from '../../../src/storage/record-repository.js';
import type { OutboxEntry } from '../../../src/storage/schema.js';
import { freshDb, recordIdFor, sampleRecord } from './helpers.js';

const ERROR = { code: 'NETWORK_ERROR', message: 'down', hint: 'wait' };
const codeOf = (run: () => unknown) => {
  try {
    run();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? 'untyped';
  }
};

describe('outbox state machine (pure transitions)', () => {
  const pending = newOutboxEntry(recordIdFor(1), 0, 'abcdefghijklmnopqrstuvwxyz234567', 'put', 100);

  it('pending → in-flight → (done | later | failed), and failed → pending only by retry', () => {
    expect(isDue(pending, 100)).toBe(true);
    expect(isDue(pending, 99)).toBe(false);
    const flying = claim(pending, 200);
    expect(flying).toMatchObject({ state: 'in-flight', attempts: 0, updatedAt: 200 });
    expect(codeOf(() => assertCanSucceed(flying))).toBe('ok');

    const later = retryLater(flying, ERROR, 300, 5_000);
    expect(later).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: 5_300, lastError: ERROR });
    expect(isDue(later, 5_299)).toBe(false);
    expect(isDue(later, 5_300)).toBe(true);

    const released = release(claim(later, 6_000), 6_100);
    // An interruption is not the entry's fault: no attempt counted, due at once.
    expect(released).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: 6_100 });

    const failed = fail(claim(released, 7_000), ERROR, 7_001);
    expect(failed).toMatchObject({ state: 'failed', attempts: 2, lastError: ERROR });
    expect(isDue(failed, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(retry(failed, 8_000)).toMatchObject({ state: 'pending', nextAttemptAt: 8_000, attempts: 2 });
  });

  it('refuses every transition from the wrong state, with a typed error', () => {
    const flying = claim(pending, 1);
    const failed = fail(flying, ERROR, 2);
    expect(codeOf(() => claim(flying, 3))).toBe('OUTBOX_INVALID_TRANSITION');
    expect(codeOf(() => claim(failed, 3))).toBe('OUTBOX_INVALID_TRANSITION');
    expect(codeOf(() => release(pending, 3))).toBe('OUTBOX_INVALID_TRANSITION');
    expect(codeOf(() => retryLater(pending, ERROR, 3, 1))).toBe('OUTBOX_INVALID_TRANSITION');
    expect(codeOf(() => fail(failed, ERROR, 3))).toBe('OUTBOX_INVALID_TRANSITION');
    expect(codeOf(() => retry(pending, 3))).toBe('OUTBOX_INVALID_TRANSITION');
    expect(codeOf(() => assertCanSucceed(pending))).toBe('OUTBOX_INVALID_TRANSITION');
  });
});

describe('outbox repository', () => {
  it('claims only due entries, completes them and advances the record to synced, k of n', async () => {
    const db = await freshDb();
    const input = sampleRecord(recordIdFor(2), 8, 1_000);
    await saveNewRecord(db, input);
    const due = await dueEntries(db, 1_000, 5);
    expect(due).toHaveLength(5);
    const claimed = await claimEntries(db, due, 1_001);
    expect(claimed.every((c) => c.entry.state === 'in-flight' && c.fragment?.blob instanceof Blob)).toBe(true);
    expect(await countOutbox(db)).toEqual({ pending: 3, inFlight: 5, failed: 0 });
    // Claimed entries are no longer due: a second claim of the same list gets nothing.
    expect(await claimEntries(db, due, 1_002)).toHaveLength(0);

    const first = await completeEntry(db, claimed[0]!.entry, 2_000);
    expect(first.record?.sync).toMatchObject({ state: 'uploading', uploaded: 1 });
    // Completing twice (a duplicate confirmation) counts once.
    expect((await completeEntry(db, claimed[0]!.entry, 2_001)).record?.sync.uploaded).toBe(1);

    for (const c of claimed.slice(1)) await completeEntry(db, c.entry, 2_002);
    const rest = await claimEntries(db, await dueEntries(db, 3_000, 100), 3_000);
    let last;
    for (const c of rest) last = await completeEntry(db, c.entry, 3_001);
    expect(last?.record?.sync).toMatchObject({ state: 'synced', uploaded: 8 });
    expect(await listOutbox(db)).toEqual([]);
    expect((await getFragments(db, input.record.recordId)).every((f) => f.uploadedAt !== null)).toBe(true);
  });

  it('reschedules transient failures with their delay, and reports when the next entry is due', async () => {
    const db = await freshDb();
    await saveNewRecord(db, sampleRecord(recordIdFor(3), 8, 0));
    const [one] = await claimEntries(db, await dueEntries(db, 0, 1), 10);
    await rescheduleEntry(db, one!.entry, ERROR, 10, 60_000);
    const entries = await listOutbox(db);
    const moved = entries.find((e) => e.position === one!.entry.position)!;
    expect(moved).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: 60_010, lastError: ERROR });
    expect((await dueEntries(db, 59_999, 100)).map((e) => e.position)).not.toContain(moved.position);
    expect((await dueEntries(db, 60_010, 100)).map((e) => e.position)).toContain(moved.position);
    expect(await nextDueAt(db)).toBe(0);
    const others = await claimEntries(db, await dueEntries(db, 0, 100), 20);
    expect(others).toHaveLength(7);
    expect(await nextDueAt(db)).toBe(60_010);
    for (const c of others) await completeEntry(db, c.entry, 30);
    const [last] = await claimEntries(db, await dueEntries(db, 60_010, 100), 60_010);
    await completeEntry(db, last!.entry, 60_011);
    expect(await nextDueAt(db)).toBeNull();
  });

  it('after a crash, in-flight entries are pending again (no attempt counted) and nothing else changes', async () => {
    const db = await freshDb();
    await saveNewRecord(db, sampleRecord(recordIdFor(4), 8, 0));
    await claimEntries(db, await dueEntries(db, 0, 3), 1);
    // The tab closes here: three entries stay in-flight in the database.
    expect(await countOutbox(db)).toEqual({ pending: 5, inFlight: 3, failed: 0 });
    expect(await recoverInFlight(db, 50)).toBe(3);
    expect(await countOutbox(db)).toEqual({ pending: 8, inFlight: 0, failed: 0 });
    expect((await listOutbox(db)).every((e) => e.attempts === 0)).toBe(true);
  });

  it('a failure that needs a person marks the entry and the record failed; retry puts them back', async () => {
    const db = await freshDb();
    const input = sampleRecord(recordIdFor(5), 8, 0);
    await saveNewRecord(db, input);
    const [one] = await claimEntries(db, await dueEntries(db, 0, 1), 1);
    const denied = { code: 'PRESIGN_UNAUTHORIZED', message: 'no', hint: 'check the token' };
    const { record } = await failEntry(db, one!.entry, denied, 2);
    expect(record?.sync).toMatchObject({ state: 'failed', lastError: denied });
    expect(await countOutbox(db)).toEqual({ pending: 7, inFlight: 0, failed: 1 });
    expect(await retryFailedEntries(db, 3)).toBe(1);
    expect(await countOutbox(db)).toEqual({ pending: 8, inFlight: 0, failed: 0 });
    expect((await getRecord(db, input.record.recordId))?.sync).toMatchObject({ state: 'local', lastError: null });
  });

  it('a put still in flight when its record is deleted does not cancel the queued delete', async () => {
    const db = await freshDb();
    const input = sampleRecord(recordIdFor(6), 8, 0);
    await saveNewRecord(db, input);
    const [one] = await claimEntries(db, await dueEntries(db, 0, 1), 1);
    await removeRecordAndQueueDeletes(db, input.record.recordId, 2, (f) => newOutboxEntry(f.recordId, f.position, f.objectName, 'delete', 2));
    await completeEntry(db, one!.entry, 3);
    await releaseEntry(db, one!.entry, 3);
    const entries: OutboxEntry[] = await listOutbox(db);
    expect(entries).toHaveLength(8);
    expect(entries.every((e) => e.op === 'delete' && e.state === 'pending')).toBe(true);
  });
});
