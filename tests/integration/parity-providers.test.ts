/**
 * Issue 17 against real stacks: three presign services, each with its own embedded S3 store, in Node
 * through the fetch transport. Records are protected with parity, stored and uploaded by the outbox
 * over two (or three) providers, then objects are deleted, corrupted and whole stores stopped.
 */
import 'fake-indexeddb/auto';
import { readdir, rm, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecord, protectRecord } from '../../src/core/record.js';
import { providerOfSlot } from '../../src/core/placement.js';
import { createFetchTransport } from '../../src/services/fetch-transport.js';
import { ALWAYS_ONLINE } from '../../src/services/online-status.js';
import { OutboxRunner } from '../../src/services/outbox-runner.js';
import { PresignClient, resolveCloudEndpoint } from '../../src/services/presign-client.js';
import { checkRecordHealth, HealthMonitor, repairRecordObjects } from '../../src/services/record-health.js';
import { fetchAndOpen, storeProtectedRecord } from '../../src/services/record-store.js';
import { TransferEngine } from '../../src/services/transfer-engine.js';
import { openVaultDb, type VaultDb } from '../../src/storage/open-vault-db.js';
import { getFragments, getRecord, replaceFragments } from '../../src/storage/record-repository.js';
import { PRIMARY_PROVIDER } from '../../src/storage/schema.js';
import { startStack, type Stack } from '../../server/start.js';
import { TEST_KDF } from '../unit/services/helpers.js';
import { bucketReader, pseudoRandomBytes, tempDir } from './stack-helpers.js';

const TOKEN = 'owner-token-0123456789abcdefgh';
const fetchTransport = createFetchTransport();
const fast = { backoff: { baseMs: 5, maxMs: 20 }, maxAttempts: 2 };
const KEY = 'adk21937';

interface Store {
  readonly id: string;
  stack: Stack;
  readonly dataDir: string;
  readonly bucket: ReturnType<typeof bucketReader>;
}

async function startStore(id: string, root: string): Promise<Store> {
  const dataDir = join(root, id);
  const stack = await startStack({ appPort: 0, distDir: root, localS3: { port: 0, dataDir }, tokens: { [TOKEN]: 'owner' },  rateLimit: { burst: 10_000, perSecond: 1_000 }, log: () => {} });
  return { id, stack, dataDir, bucket: bucketReader(dataDir) };
}

/** One engine per provider, built once (as the vault does). */
function enginesFor(stores: readonly Store[]) {
  const built = new Map<string, Promise<TransferEngine>>();
  return (provider: string): Promise<TransferEngine> => {
    const store = stores.find((s) => s.id === provider)!;
    if (!built.has(provider)) {
      built.set(
        provider,
        resolveCloudEndpoint({ origin: store.stack.appUrl, settings: { presignUrl: `${store.stack.appUrl}/api/presign`, token: TOKEN }, transport: fetchTransport }).then(
          (endpoint) => new TransferEngine({ presigner: new PresignClient(endpoint, fetchTransport), transport: fetchTransport, isOnline: () => true, ...fast }),
        ),
      );
    }
    return built.get(provider)!;
  };
}

interface Protected {
  readonly recordId: string;
  readonly recordKey: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly providers: readonly string[];
  readonly n: number;
  readonly p: number;
  /** Slot → bucket key (where the object lives). */
  readonly keys: readonly string[];
}

/** protect (core) → store (catalog + outbox, spread over `stores`) → the outbox uploads each object to its provider. */
async function protectAndUpload(db: VaultDb, stores: readonly Store[], p: number, size = 40_000, seed = 1, key = KEY): Promise<Protected> {
  const plaintext = pseudoRandomBytes(size, seed);
  const record = await protectRecord([plaintext], { kind: 'file', name: 'scan.pdf', mime: 'application/pdf', byteLength: size }, key, { chunkSize: 4_096, kdf: TEST_KDF, parity: p });
  const result = { envelopeLength: record.envelopeLength, objects: record.objects.map((bytes, slot) => ({ slot, blob: new Blob([bytes as BlobPart]) })) };
  const providers = stores.map((s) => s.id);
  const runner = new OutboxRunner({ db, engine: enginesFor(stores), locks: null, channelName: null, online: ALWAYS_ONLINE });
  await storeProtectedRecord(result, record.recordId, record.recordKey, { db, providers, notify: () => runner.wake(), storage: { estimate: async () => ({ usage: 0, quota: 1e12 }), persisted: async () => true } });
  runner.start();
  await runner.whenSettled();
  await runner.stop();
  expect((await getRecord(db, record.recordId))?.sync.state).toBe('synced');
  const rows = (await getFragments(db, record.recordId)).sort((a, b) => a.position - b.position);
  return { recordId: record.recordId, recordKey: record.recordKey, plaintext, providers, n: [...key].length, p, keys: rows.map((r) => `users/owner/fragments/${r.objectName}`) };
}

function storeOf(stores: readonly Store[], record: Protected, slot: number): Store {
  return stores.find((s) => s.id === record.providers[providerOfSlot(slot, record.providers.length)])!;
}

async function deleteObject(store: Store, key: string): Promise<void> {
  const path = join(store.dataDir, 'ehr-vault', ...key.split('/'));
  const dir = path.slice(0, path.lastIndexOf('/'));
  const base = path.slice(path.lastIndexOf('/') + 1);
  for (const file of await readdir(dir)) if (file.startsWith(`${base}._S3rver`)) await rm(join(dir, file));
}

/** Flips one byte inside the body (after the 92-byte head): the head still opens, the bytes are wrong. */
async function corruptObject(store: Store, key: string): Promise<void> {
  const path = join(store.dataDir, 'ehr-vault', ...key.split('/')) + '._S3rver_object';
  const bytes = new Uint8Array(await readFile(path));
  bytes[100]! ^= 0x5a;
  await writeFile(path, bytes);
}

/** Opens on a device that has never seen the record (no cache, no SHA-256): the recipient's case. */
async function openElsewhere(stores: readonly Store[], record: Protected): Promise<Uint8Array> {
  const db = await openVaultDb({ name: `elsewhere-${Math.random()}` });
  const engines = enginesFor(stores);
  const { opened } = await fetchAndOpen(record.recordId, record.recordKey, undefined, { db, engine: (slot) => engines(record.providers[providerOfSlot(slot, record.providers.length)]!) }, async (blobs) =>
    openRecord(await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer()))), KEY, record.recordKey, record.recordId),
  );
  return opened.body;
}

/** The error of an open elsewhere, as { code, details }. */
async function failureElsewhere(stores: readonly Store[], record: Protected): Promise<{ code: string; details: { missingSlots?: number[]; damagedSlots?: number[]; unusable?: { slot: number; reason: string }[] } }> {
  return openElsewhere(stores, record).then(
    () => ({ code: 'ok', details: {} }),
    (e: { code: string; details: Record<string, unknown> }) => ({ code: e.code, details: e.details as never }),
  );
}

describe('parity over several providers (issue 17), against three presign services and S3 stores', () => {
  let root: { path: string; remove: () => Promise<void> };
  let a: Store;
  let b: Store;
  let c: Store;
  let phone: VaultDb;

  beforeAll(async () => {
    root = await tempDir('parity');
    [a, b, c] = await Promise.all([startStore('primary', root.path), startStore('second', root.path), startStore('third', root.path)]);
    phone = await openVaultDb({ name: `parity-phone-${Date.now()}` });
  });

  afterAll(async () => {
    await Promise.allSettled([a?.stack.close(), b?.stack.close(), c?.stack.close()]);
    await root?.remove();
  });

  it('two providers, p = 2: each holds 5 of 10 objects (never n = 8); two deleted, one corrupted, and combined within p → opens bit-equal; beyond p → RECORD_UNRECOVERABLE naming them', async () => {
    const stores = [a, b];
    const record = await protectAndUpload(phone, stores, 2, 40_000, 7);
    for (const store of stores) {
      const held = (await store.bucket.list('users/owner/fragments/')).filter((k) => record.keys.includes(k));
      expect(held).toHaveLength(5);
    }
    // Two objects deleted (a data object on each provider).
    await deleteObject(storeOf(stores, record, 0), record.keys[0]!);
    await deleteObject(storeOf(stores, record, 3), record.keys[3]!);
    expect(await openElsewhere(stores, record)).toEqual(record.plaintext);

    // Repair on the owner's device restores both (from its own copy), and the next check is clean.
    const repaired = await repairRecordObjects(record.recordId, { db: phone, engines: enginesFor(stores), recordKey: record.recordKey });
    expect(repaired.repaired).toEqual([0, 3]);
    expect(repaired.fromCache).toEqual([0, 3]);
    expect(repaired.health).toMatchObject({ state: 'healthy', missing: [], damaged: [], unreachable: [] });

    // One corrupted inside its body: its head opens, so a recipient only finds out when the open fails;
    // the other objects then locate and replace it.
    await corruptObject(storeOf(stores, record, 2), record.keys[2]!);
    expect(await openElsewhere(stores, record)).toEqual(record.plaintext);
    const checked = await checkRecordHealth(record.recordId, { db: phone, engines: enginesFor(stores), deep: true });
    expect(checked).toMatchObject({ state: 'degraded', missing: [], damaged: [2] });

    // Combined within the limit: one deleted and one corrupted.
    await deleteObject(storeOf(stores, record, 9), record.keys[9]!);
    expect(await openElsewhere(stores, record)).toEqual(record.plaintext);

    // Beyond the limit: a third object gone.
    await deleteObject(storeOf(stores, record, 5), record.keys[5]!);
    const failure = await failureElsewhere(stores, record);
    expect(failure.code).toBe('RECORD_UNRECOVERABLE');
    // 5 and 9 are not in the cloud; the reader found damage around 2 (its bytes were altered).
    expect(failure.details.missingSlots).toEqual([5, 9]);
    expect(failure.details.unusable?.map((u) => [u.slot, u.reason])).toEqual([
      [5, 'FRAGMENT_NOT_IN_CLOUD'],
      [9, 'FRAGMENT_NOT_IN_CLOUD'],
    ]);
    expect(failure.details.damagedSlots).toContain(2);
    // The owner still can: its copies restore every object, and the next check is clean.
    const health = await checkRecordHealth(record.recordId, { db: phone, engines: enginesFor(stores), deep: true });
    expect(health).toMatchObject({ state: 'unrecoverable', missing: [5, 9], damaged: [2] });
    const fixed = await repairRecordObjects(record.recordId, { db: phone, engines: enginesFor(stores), recordKey: record.recordKey });
    expect(fixed.repaired).toEqual([2, 5, 9]);
    expect(fixed.health.state).toBe('healthy');
    expect(await openElsewhere(stores, record)).toEqual(record.plaintext);
  });

  it('repair without this device\'s copy: two lost objects are re-created from the others with the record key alone', async () => {
    const stores = [a, b];
    const record = await protectAndUpload(phone, stores, 2, 30_000, 8);
    // The cache lost its bytes (evicted): repair must rebuild from the cloud.
    await replaceFragments(phone, (await getFragments(phone, record.recordId)).map((r) => ({ ...r, blob: null })));
    await deleteObject(storeOf(stores, record, 1), record.keys[1]!);
    await corruptObject(storeOf(stores, record, 8), record.keys[8]!);
    const repaired = await repairRecordObjects(record.recordId, { db: phone, engines: enginesFor(stores), recordKey: record.recordKey });
    expect(repaired).toMatchObject({ repaired: [1, 8], fromCache: [] });
    expect(repaired.health).toMatchObject({ state: 'healthy', missing: [], damaged: [] });
    expect(await checkRecordHealth(record.recordId, { db: phone, engines: enginesFor(stores), deep: true })).toMatchObject({ state: 'healthy' });
    expect(await openElsewhere(stores, record)).toEqual(record.plaintext);
  });

  it('no provider\'s bucket holds n or more objects of any record, over many records with 2 and 3 providers', async () => {
    const db = await openVaultDb({ name: `parity-many-${Date.now()}` });
    const keys = ['adk21937', 'Qw7#zR2!xK', 'abcdefghij12', 'zyxwvuts'];
    const records: Protected[] = [];
    for (let i = 0; i < 12; i++) {
      const stores = i % 2 === 0 ? [a, b] : [a, b, c];
      records.push(await protectAndUpload(db, stores, 2, 2_000 + i * 500, 100 + i, keys[i % keys.length]));
    }
    const held = new Map<string, Set<string>>();
    for (const store of [a, b, c]) held.set(store.id, new Set(await store.bucket.list('users/owner/fragments/')));
    for (const record of records) {
      expect(record.keys).toHaveLength(record.n + record.p);
      for (const store of [a, b, c]) {
        const count = record.keys.filter((k) => held.get(store.id)!.has(k)).length;
        expect(count).toBeLessThan(record.n);
        expect(count).toBe(record.providers.includes(store.id) ? Math.ceil((record.n + record.p - record.providers.indexOf(store.id)) / record.providers.length) : 0);
      }
    }
  });

  it('the background check is bounded and resumable, and skips a metered connection', async () => {
    const db = await openVaultDb({ name: `parity-monitor-${Date.now()}` });
    const stores = [a, b];
    for (let i = 0; i < 3; i++) await protectAndUpload(db, stores, 2, 3_000, 200 + i);
    let metered = true;
    const checked: string[] = [];
    const monitor = new HealthMonitor({ db, engines: enginesFor(stores), recordsPerRun: 2, conditions: async () => ({ metered, lowBattery: false }), onChecked: (id) => checked.push(id) });
    expect(await monitor.runOnce()).toBe(0);
    metered = false;
    expect(await monitor.runOnce()).toBe(2);
    // The next run takes the one not checked yet, not the two just checked.
    expect(await monitor.runOnce()).toBe(1);
    expect(new Set(checked).size).toBe(3);
    expect(await monitor.runOnce()).toBe(0);
  });

  it('three providers, p = 4: a whole store stopped → opens bit-equal; with one more object lost → names every missing slot; two providers cannot survive a stopped store', async () => {
    const three = [a, b, c];
    const record = await protectAndUpload(phone, three, 4, 20_000, 9);
    const two = await protectAndUpload(phone, [a, b], 2, 20_000, 10);
    await c.stack.close();
    expect(await openElsewhere(three, record)).toEqual(record.plaintext);
    const health = await checkRecordHealth(record.recordId, { db: phone, engines: enginesFor(three) });
    expect(health).toMatchObject({ state: 'degraded', unreachable: [2, 5, 8, 11] });

    // One object lost on a store still running: 5 unusable > p = 4.
    await deleteObject(storeOf(three, record, 0), record.keys[0]!);
    const failure = await failureElsewhere(three, record);
    expect(failure.code).toBe('RECORD_UNRECOVERABLE');
    expect(failure.details.missingSlots).toEqual([0, 2, 5, 8, 11]);
    expect(failure.details.unusable?.find((u) => u.slot === 0)?.reason).toBe('FRAGMENT_NOT_IN_CLOUD');
    expect(failure.details.unusable?.filter((u) => u.slot !== 0).every((u) => u.reason.startsWith('NETWORK_'))).toBe(true);

    // Two providers, p = 2: stopping one (5 objects) is beyond the limit, as docs/STORAGE.md says.
    await b.stack.close();
    const lost = await failureElsewhere([a, b], two);
    expect(lost.code).toBe('RECORD_UNRECOVERABLE');
    expect(lost.details.missingSlots).toEqual([1, 3, 5, 7, 9]);
    expect(PRIMARY_PROVIDER).toBe(a.id);
  });
});
