import 'fake-indexeddb/auto';
import { IDBObjectStore as FakeObjectStore } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cacheFragments, getFragments, getRecord, listRecords, removeRecordAndQueueDeletes, saveNewRecord } from '../../../src/storage/record-repository.js';
import { listOutbox } from '../../../src/storage/outbox-repository.js';
import { newOutboxEntry } from '../../../src/storage/outbox-transitions.js';
import { ensureRoomFor, estimateStorage, requestPersistentStorage } from '../../../src/storage/storage-quota.js';
import { countAll, freshDb, recordIdFor, sampleRecord } from './helpers.js';

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? `untyped: ${String(e)}`);

type Internal = { transaction: { _execRequestAsync(request: { operation: () => unknown; source: unknown }): unknown }; name: string };

/**
 * Makes the k-th `add` into the fragments store fail the way a full disk does in a browser: the request
 * errors with QuotaExceededError and the transaction aborts. (fake-indexeddb has no quota, so the
 * failure is injected through its request queue.)
 */
function failNthFragmentAdd(k: number, mode: 'async' | 'sync') {
  const original = FakeObjectStore.prototype.add;
  let seen = 0;
  return vi.spyOn(FakeObjectStore.prototype, 'add').mockImplementation(function (this: InstanceType<typeof FakeObjectStore>, ...args: Parameters<typeof original>) {
    const self = this as unknown as Internal;
    if (self.name === 'fragments' && ++seen === k) {
      const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      if (mode === 'sync') throw quota;
      return self.transaction._execRequestAsync({ operation: () => { throw quota; }, source: this }) as ReturnType<typeof original>;
    }
    return original.apply(this, args);
  });
}

afterEach(() => vi.restoreAllMocks());

describe('record repository', () => {
  it('stores a record, its fragments (with blobs) and its outbox entries together', async () => {
    const db = await freshDb();
    const id = recordIdFor(2);
    await saveNewRecord(db, sampleRecord(id));
    expect(await countAll(db)).toEqual({ records: 1, fragments: 8, outbox: 8 });
    const fragments = await getFragments(db, id);
    expect(fragments.map((f) => f.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Uint8Array(await fragments[3]!.blob!.arrayBuffer())).toEqual(new Uint8Array(103).fill(3));
    expect((await listOutbox(db)).every((e) => e.state === 'pending' && e.op === 'put' && e.attempts === 0)).toBe(true);
    expect((await listRecords(db)).map((r) => r.recordId)).toEqual([id]);
  });

  it.each(['async', 'sync'] as const)('all or nothing: a quota error on the 5th fragment (%s) leaves nothing stored, typed STORAGE_FULL', async (mode) => {
    const db = await freshDb();
    failNthFragmentAdd(5, mode);
    const error = await saveNewRecord(db, sampleRecord(recordIdFor(3))).then(() => undefined, (e: unknown) => e as { code: string; hint: string });
    expect(error?.code).toBe('STORAGE_FULL');
    expect(error?.hint).toMatch(/Free space/);
    vi.restoreAllMocks();
    expect(await countAll(db)).toEqual({ records: 0, fragments: 0, outbox: 0 });
    // The database is still usable afterwards.
    await saveNewRecord(db, sampleRecord(recordIdFor(3)));
    expect(await countAll(db)).toEqual({ records: 1, fragments: 8, outbox: 8 });
  });

  it('refuses a second record with the same id without touching the first', async () => {
    const db = await freshDb();
    const id = recordIdFor(4);
    await saveNewRecord(db, sampleRecord(id));
    expect(await codeOf(() => saveNewRecord(db, sampleRecord(id, 9)))).toBe('RECORD_EXISTS');
    expect((await getRecord(db, id))?.fragmentCount).toBe(8);
    expect(await countAll(db)).toEqual({ records: 1, fragments: 8, outbox: 8 });
  });

  it('rejects an inconsistent record before writing anything', async () => {
    const db = await freshDb();
    const input = sampleRecord(recordIdFor(5));
    expect(await codeOf(() => saveNewRecord(db, { ...input, fragments: input.fragments.slice(1) }))).toBe('STORAGE_WRITE_FAILED');
    expect(await countAll(db)).toEqual({ records: 0, fragments: 0, outbox: 0 });
  });

  it('caches downloaded fragments, adding a catalog entry only when there is none', async () => {
    const db = await freshDb();
    const local = sampleRecord(recordIdFor(6));
    await saveNewRecord(db, local);
    expect((await getFragments(db, local.record.recordId)).every((f) => f.blob !== null)).toBe(true);

    const remote = sampleRecord(recordIdFor(7));
    await cacheFragments(db, { ...remote.record, sync: { ...remote.record.sync, state: 'remote' } }, remote.fragments.slice(0, 2));
    expect((await getRecord(db, remote.record.recordId))?.sync.state).toBe('remote');
    expect((await getFragments(db, remote.record.recordId)).length).toBe(2);
    // Caching into an existing record keeps its catalog entry as it was.
    await cacheFragments(db, { ...local.record, sync: { ...local.record.sync, state: 'remote' } }, local.fragments.slice(0, 1));
    expect((await getRecord(db, local.record.recordId))?.sync.state).toBe('local');
  });

  it('deleting a record removes it here and replaces its pending uploads by deletes, in one step', async () => {
    const db = await freshDb();
    const input = sampleRecord(recordIdFor(8));
    await saveNewRecord(db, input);
    const queued = await removeRecordAndQueueDeletes(db, input.record.recordId, 5_000, (f) => newOutboxEntry(f.recordId, f.position, f.objectName, 'delete', 5_000));
    expect(queued).toBe(8);
    expect(await countAll(db)).toEqual({ records: 0, fragments: 0, outbox: 8 });
    expect((await listOutbox(db)).every((e) => e.op === 'delete' && e.state === 'pending')).toBe(true);
    expect(await codeOf(() => removeRecordAndQueueDeletes(db, input.record.recordId, 6_000, (f) => newOutboxEntry(f.recordId, f.position, f.objectName, 'delete', 6_000)))).toBe('RECORD_NOT_FOUND');
  });
});

describe('storage quota and persistence', () => {
  it('refuses early, typed, when the estimate says the record cannot fit', async () => {
    const manager = { estimate: async () => ({ usage: 900, quota: 1_000 }) };
    expect(await codeOf(() => ensureRoomFor(101, manager))).toBe('STORAGE_FULL');
    expect((await ensureRoomFor(100, manager)).available).toBe(100);
  });

  it('reports usage and quota, and unknown when the browser cannot say', async () => {
    expect(await estimateStorage({ estimate: async () => ({ usage: 10, quota: 50 }), persisted: async () => true })).toEqual({ usage: 10, quota: 50, available: 40, persisted: true });
    expect(await estimateStorage(undefined)).toEqual({ usage: null, quota: null, available: null, persisted: null });
    expect(await estimateStorage({ estimate: async () => Promise.reject(new Error('private mode')) })).toMatchObject({ usage: null, available: null });
  });

  it('asks for persistent storage once, and treats a refusal or an exception as "not persistent"', async () => {
    let asked = 0;
    expect(await requestPersistentStorage({ persisted: async () => false, persist: async () => (asked += 1) > 0 })).toBe(true);
    expect(await requestPersistentStorage({ persisted: async () => true, persist: async () => (asked += 1) > 0 })).toBe(true);
    expect(asked).toBe(1);
    expect(await requestPersistentStorage({ persist: async () => Promise.reject(new Error('no')) })).toBe(false);
    expect(await requestPersistentStorage(undefined)).toBe(false);
  });
});
