import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { toBase64Url, toHex } from '../../../src/core/bytes.js';
import { encodeKeyText } from '../../../src/core/key-text.js';
import { deriveLocatorKeys } from '../../../src/core/keychain.js';
import { fragmentObjectName } from '../../../src/core/object-names.js';
import { openRecord } from '../../../src/core/record.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes } from '../../../src/core/object-head.js';
import { recordIdBytes } from '../../../src/core/open-objects.js';
import { cachedRecordHead, deleteRecord, fetchFragments, storeProtectedRecord } from '../../../src/services/record-store.js';
import { TransferEngine } from '../../../src/services/transfer-engine.js';
import { listOutbox } from '../../../src/storage/outbox-repository.js';
import { getFragments, getRecord } from '../../../src/storage/record-repository.js';
import { countAll, freshDb } from '../storage/helpers.js';
import { FakeCloud, recordingSleep, sha256 } from './fake-cloud.js';
import { FILE_NAME, protectedSample, SEQUENCE_KEY, TEST_KDF } from './helpers.js';

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? `untyped: ${String(e)}`);
const roomy = { estimate: async () => ({ usage: 0, quota: 1e9 }), persisted: async () => true };

function engineOn(cloud: FakeCloud) {
  return async () => new TransferEngine({ presigner: cloud.presigner, transport: cloud.transport, sleep: recordingSleep().sleep, isOnline: () => true });
}

async function uploadAll(cloud: FakeCloud, db: Awaited<ReturnType<typeof freshDb>>, recordId: string) {
  const rows = await getFragments(db, recordId);
  await (await engineOn(cloud)()).upload(rows.map((r) => ({ name: r.objectName, blob: r.blob!, sha256: r.sha256 })));
}

describe('storeProtectedRecord', () => {
  it('never asks for persistent storage, so an unanswered prompt cannot hold storing', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    let asked = 0;
    // Firefox's persist() waits for the person's answer to a prompt: here, forever.
    const prompting = { ...roomy, persisted: async () => false, persist: () => new Promise<boolean>(() => void (asked += 1)) };
    const record = await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: prompting, notify: () => {} });
    expect(record.recordId).toBe(sample.recordId);
    expect(asked).toBe(0);
    expect((await getRecord(db, sample.recordId))?.fragmentCount).toBe(8);
  });

  it('stores catalog + fragments + outbox with derived object names and digests, and nothing secret', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    let notified = 0;
    const progress: number[] = [];
    const record = await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, notify: () => (notified += 1), onProgress: (p) => progress.push(p.done) });
    expect(notified).toBe(1);
    expect(record).toMatchObject({ recordId: sample.recordId, fragmentCount: 8, envelopeLength: sample.result.envelopeLength, sync: { state: 'local', uploaded: 0 }, wrappedKey: null });
    expect(progress.at(-1)).toBe(record.totalBytes);

    const keys = await deriveLocatorKeys(sample.recordKey);
    const rows = await getFragments(db, sample.recordId);
    for (const row of rows) {
      expect(row.objectName).toBe(await fragmentObjectName(keys, sample.recordId, row.position));
      expect(row.objectName).toMatch(/^[a-z2-7]{32}$/);
      expect(row.sha256).toBe(sha256(new Uint8Array(await row.blob!.arrayBuffer())));
      // Index characters are sealed inside the objects (FORMAT.md §4) and never stored beside them.
      expect(Object.keys(row)).not.toContain('indexChar');
    }
    expect((await listOutbox(db)).map((e) => [e.position, e.op, e.state, e.objectName])).toEqual(rows.map((r) => [r.position, 'put', 'pending', r.objectName]));

    // The catalog holds no file name, plaintext or record key in any form.
    const catalog = JSON.stringify(await getRecord(db, sample.recordId), (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
    const rowsText = JSON.stringify(rows.map(({ blob: _blob, ...rest }) => rest));
    for (const secret of [FILE_NAME, toHex(sample.recordKey), toBase64Url(sample.recordKey), encodeKeyText(sample.recordKey), SEQUENCE_KEY]) {
      expect(catalog).not.toContain(secret);
      expect(rowsText).not.toContain(secret);
    }
  });

  it('refuses before writing when the device has no room (STORAGE_FULL), leaving nothing behind', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    let notified = 0;
    const full = { estimate: async () => ({ usage: 1_000, quota: 1_010 }) };
    expect(await codeOf(() => storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: full, notify: () => (notified += 1) }))).toBe('STORAGE_FULL');
    expect(await countAll(db)).toEqual({ records: 0, fragments: 0, outbox: 0 });
    expect(notified).toBe(0);
  });

  it('can be cancelled before anything is written', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(() => storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, signal: controller.signal, notify: () => {} }))).toBe('ABORTED');
    expect(await countAll(db)).toEqual({ records: 0, fragments: 0, outbox: 0 });
  });
});

describe('fetchFragments', () => {
  it('serves a stored record from the cache, with no network at all', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, notify: () => {} });
    const blobs = await fetchFragments(sample.recordId, sample.recordKey, 8, { db });
    const bytes = await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer())));
    expect((await openRecord(bytes, SEQUENCE_KEY, sample.recordKey, sample.recordId)).body).toEqual(sample.plaintext);
  });

  it("reads a cached object's head (KDF parameters, batch salt, key check), with no network; none for another key or no cache", async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    const other = await protectedSample();
    expect(await cachedRecordHead(db, sample.recordId, sample.recordKey)).toBeUndefined();
    await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, notify: () => {} });
    const head = decodeHeadFields((await openHeadBytes((await deriveLocatorKeys(sample.recordKey)).head, recordIdBytes(sample.recordId), new Uint8Array(await sample.result.objects[0]!.blob.slice(0, HEAD_LENGTH).arrayBuffer())))!, 0);
    const found = await cachedRecordHead(db, sample.recordId, sample.recordKey);
    expect(found).toEqual(head);
    expect(found?.kdf).toEqual(TEST_KDF);
    expect(found?.kdfSalt).toHaveLength(16);
    expect(await cachedRecordHead(db, sample.recordId, other.recordKey)).toBeUndefined();
  });

  it('says WRONG_RECORD_KEY when the key does not derive the cached names', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    const other = await protectedSample();
    await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, notify: () => {} });
    expect(await codeOf(() => fetchFragments(sample.recordId, other.recordKey, 8, { db }))).toBe('WRONG_RECORD_KEY');
  });

  it('on another device: downloads by derived names, verifies, caches, and the record opens', async () => {
    const cloud = new FakeCloud();
    const phone = await freshDb();
    const sample = await protectedSample(5_000);
    await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db: phone, storage: roomy, notify: () => {} });
    await uploadAll(cloud, phone, sample.recordId);

    const laptop = await freshDb();
    const progress: number[] = [];
    const blobs = await fetchFragments(sample.recordId, sample.recordKey, 8, { db: laptop, engine: engineOn(cloud), onProgress: (p) => progress.push(p.done) });
    const bytes = await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer())));
    expect((await openRecord(bytes, SEQUENCE_KEY, sample.recordKey, sample.recordId)).body).toEqual(sample.plaintext);
    expect(progress.at(-1)).toBe(8);
    expect((await getRecord(laptop, sample.recordId))?.sync.state).toBe('remote');

    const requests = cloud.requests.length;
    await fetchFragments(sample.recordId, sample.recordKey, 8, { db: laptop, engine: engineOn(cloud) });
    expect(cloud.requests.length).toBe(requests);
  });

  it('without the fragments here and without a connection: FRAGMENT_UNAVAILABLE; not in the cloud: FRAGMENT_NOT_IN_CLOUD', async () => {
    const sample = await protectedSample();
    expect(await codeOf(async () => fetchFragments(sample.recordId, sample.recordKey, 8, { db: await freshDb() }))).toBe('FRAGMENT_UNAVAILABLE');
    expect(await codeOf(async () => fetchFragments(sample.recordId, sample.recordKey, 8, { db: await freshDb(), engine: engineOn(new FakeCloud()) }))).toBe('FRAGMENT_NOT_IN_CLOUD');
  });

  it('names a swapped object (fragment stored under another position\'s name) before any decryption', async () => {
    const cloud = new FakeCloud();
    const phone = await freshDb();
    const sample = await protectedSample();
    await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db: phone, storage: roomy, notify: () => {} });
    await uploadAll(cloud, phone, sample.recordId);
    const rows = await getFragments(phone, sample.recordId);
    const [a, b] = [cloud.objects.get(rows[1]!.objectName)!, cloud.objects.get(rows[2]!.objectName)!];
    cloud.objects.set(rows[1]!.objectName, b);
    cloud.objects.set(rows[2]!.objectName, a);
    expect(await codeOf(async () => fetchFragments(sample.recordId, sample.recordKey, 8, { db: await freshDb(), engine: engineOn(cloud) }))).toBe('FRAGMENT_FOREIGN');
  });

  it('with p = 2: stores n + p objects, opens with any two of them lost, and names every missing slot beyond that', async () => {
    const cloud = new FakeCloud();
    const phone = await freshDb();
    const sample = await protectedSample(5_000, SEQUENCE_KEY, 2);
    const record = await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db: phone, storage: roomy, notify: () => {} });
    expect(record).toMatchObject({ fragmentCount: 8, parityCount: 2 });
    expect(await listOutbox(phone)).toHaveLength(10);
    await uploadAll(cloud, phone, sample.recordId);
    const rows = await getFragments(phone, sample.recordId);
    const open = async (blobs: Blob[]) => (await openRecord(await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer()))), SEQUENCE_KEY, sample.recordKey, sample.recordId)).body;

    // Two data objects lost: the parity objects take their place (the recipient learns n and p from a head).
    cloud.objects.delete(rows[0]!.objectName);
    cloud.objects.delete(rows[5]!.objectName);
    expect(await open(await fetchFragments(sample.recordId, sample.recordKey, undefined, { db: await freshDb(), engine: engineOn(cloud) }))).toEqual(sample.plaintext);
    // One more damaged (its head no longer opens): three of ten unusable, eight needed.
    const damaged = cloud.objects.get(rows[9]!.objectName)!.slice();
    damaged[3]! ^= 1;
    cloud.objects.set(rows[9]!.objectName, damaged);
    const error = await fetchFragments(sample.recordId, sample.recordKey, { n: 8, p: 2 }, { db: await freshDb(), engine: engineOn(cloud) }).catch((e: unknown) => e as { code: string; details: Record<string, unknown> });
    expect(error).toMatchObject({ code: 'RECORD_UNRECOVERABLE', details: { n: 8, p: 2, good: 7, missingSlots: [0, 5, 9] } });
    expect((error as unknown as { details: { unusable: { slot: number; reason: string }[] } }).details.unusable.map((u) => [u.slot, u.reason])).toEqual([
      [0, 'FRAGMENT_NOT_IN_CLOUD'],
      [5, 'FRAGMENT_NOT_IN_CLOUD'],
      [9, 'FRAGMENT_FOREIGN'],
    ]);
  });

  it('deleteRecord removes the record here and queues one delete per fragment', async () => {
    const db = await freshDb();
    const sample = await protectedSample();
    await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, notify: () => {} });
    expect(await deleteRecord(sample.recordId, { db, notify: () => {} })).toBe(8);
    expect(await countAll(db)).toEqual({ records: 0, fragments: 0, outbox: 8 });
  });
});
