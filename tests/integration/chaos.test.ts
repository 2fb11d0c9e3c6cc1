/**
 * Chaos upload: many records (≥ 200 fragments) go from the on-device store (fake-indexeddb) through the
 * real outbox runner, transfer engine, presign service and a fault-injecting proxy (drops before and
 * after the store acted, 500s, 503s, delays, stalls) into the local S3 — and the "page" is reloaded in
 * the middle, more than once: at a PUT in flight the transport freezes (nothing it sends completes, as
 * when a tab dies), the database connection is closed, and a new connection and a new runner take over
 * from whatever the dead one left (entries in flight included).
 *
 * At the end every fragment is in the bucket exactly once under its own name, matches the catalog's
 * SHA-256, and every record downloads (through the same faults) and opens with src/core to its original
 * bytes. `npm test` runs a short campaign; `npm run test:chaos` a long one (CHAOS_RECORDS, CHAOS_RELOADS,
 * CHAOS_SEED change it).
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/core/errors.js';
import { TEST_KDF } from '../unit/services/helpers.js';
import { openRecord, protectRecord } from '../../src/core/record.js';
import { connectTransferEngine, updateCloudSettings } from '../../src/services/cloud-connection.js';
import { testSecrets } from './test-secrets.js';
import { createFetchTransport } from '../../src/services/fetch-transport.js';
import type { Transport } from '../../src/services/http-transport.js';
import { ALWAYS_ONLINE } from '../../src/services/online-status.js';
import { OutboxRunner } from '../../src/services/outbox-runner.js';
import { fetchFragments, storeProtectedRecord } from '../../src/services/record-store.js';
import { openVaultDb, type VaultDb } from '../../src/storage/open-vault-db.js';
import { countOutbox, listOutbox } from '../../src/storage/outbox-repository.js';
import { getFragments, listRecords } from '../../src/storage/record-repository.js';
import { startStack, type Stack } from '../../server/start.js';
import { startFaultProxy, type FaultKind, type FaultProxy } from './fault-proxy.js';
import { bucketReader, pseudoRandomBytes, sha256Base64, tempDir } from './stack-helpers.js';

const RECORDS = Number(process.env.CHAOS_RECORDS ?? 12);
const RELOADS = Number(process.env.CHAOS_RELOADS ?? 2);
const SEED = Number(process.env.CHAOS_SEED ?? 20_251_125);
const ALICE = 'alice-chaos-token-0123456789abcdef';
const FAST = { baseMs: 20, maxMs: 250 };
const ENGINE = { concurrency: 3, maxAttempts: 3, backoff: FAST, stallTimeoutMs: 500 };
const fetchTransport = createFetchTransport();
const roomy = { estimate: async () => ({ usage: 0, quota: 1e12 }) };

/** Distinct characters, some beyond ASCII and one beyond the BMP, for sequence keys of 16–24 characters. */
const KEY_POOL = Array.from('abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789#$%&*+=?@!éßøçΩЖ中文😀');

function sequenceKey(index: number): string {
  const length = 16 + ((index * 5) % 9);
  const bytes = pseudoRandomBytes(KEY_POOL.length * 2, SEED + index);
  const pool = [...KEY_POOL];
  const picked: string[] = [];
  for (let i = 0; picked.length < length; i++) picked.push(pool.splice(bytes[i]! % pool.length, 1)[0]!);
  return picked.join('');
}

/**
 * A transport that can die like a closed tab: from `crash()` on, nothing it sends completes, not even
 * requests already on the wire (they reject only when their signal aborts). `crashAtPut` crashes it as
 * its n-th PUT leaves, so a fragment is certainly in flight at that moment.
 */
function mortalTransport(crashAtPut: number | null) {
  let crashed = false;
  let puts = 0;
  let onCrash!: () => void;
  const died = new Promise<void>((resolve) => (onCrash = resolve));
  const hang = (signal: AbortSignal | undefined) =>
    new Promise<never>((_, reject) => {
      if (signal?.aborted) reject(new AbortedError(signal.reason));
      signal?.addEventListener('abort', () => reject(new AbortedError(signal.reason)), { once: true });
    });
  const transport: Transport = {
    async send(request, options = {}) {
      if (crashed) return hang(options.signal);
      if (request.method === 'PUT') {
        puts += 1;
        if (puts === crashAtPut) {
          crashed = true;
          // The request leaves (the store may well get it) but its answer is never heard.
          void fetchTransport.send(request, options).catch(() => undefined);
          onCrash();
          return hang(options.signal);
        }
      }
      const response = await fetchTransport.send(request, options);
      if (crashed) return hang(options.signal);
      return response;
    },
  };
  return { transport, died, puts: () => puts };
}

interface Original {
  readonly recordId: string;
  readonly recordKey: Uint8Array;
  readonly sequenceKey: string;
  readonly n: number;
  readonly name: string;
  readonly plaintext: Uint8Array;
}

describe('chaos: uploads through a faulty network with the page reloaded mid-way', () => {
  let storeStack: Stack;
  let app: Stack;
  let proxy: FaultProxy;
  let bucket: ReturnType<typeof bucketReader>;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await tempDir('chaos');
    removeTemp = temp.remove;
    const dataDir = `${temp.path}/s3`;
    proxy = await startFaultProxy({ target: () => storeStack.s3Url, seed: SEED, faultRate: 0.5, maxFaultsPerKey: 4, stallMs: 1_500 });
    storeStack = await startStack({ appPort: 0, distDir: temp.path, localS3: { port: 0, dataDir, extraHosts: [new URL(proxy.url).host] }, tokens: { 'unused-token-0123456789': 'nobody' }, log: () => {} });
    app = await startStack({
      appPort: 0,
      distDir: temp.path,
      s3: { endpoint: proxy.url, region: 'us-east-1', ...storeStack.s3Credentials!, forcePathStyle: true },
      tokens: { [ALICE]: 'alice' },
      rateLimit: { burst: 100_000, perSecond: 10_000 },
      log: () => {},
    });
    bucket = bucketReader(dataDir);
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await storeStack?.close();
    await removeTemp?.();
  });

  it(
    `${RECORDS} records, ${RELOADS} reload(s): every fragment stored exactly once, intact, and every record opens`,
    async () => {
      const dbName = `chaos-${process.pid}-${Date.now()}`;
      let db: VaultDb = await openVaultDb({ name: dbName });
      const secrets = await testSecrets();
      await updateCloudSettings(db, { presignUrl: `${app.appUrl}/api/presign`, token: ALICE }, secrets);

      // --- Protect and store (catalog + fragments + outbox, one transaction per record) ---
      const originals: Original[] = [];
      for (let r = 0; r < RECORDS; r++) {
        const plaintext = pseudoRandomBytes(2_000 + ((r * 48_271) % 90_000), SEED * 7 + r);
        const key = sequenceKey(r);
        const name = `chaos-${r}-scan.bin`;
        const record = await protectRecord([plaintext], { kind: 'file', name, mime: 'application/octet-stream', byteLength: plaintext.length }, key, { chunkSize: 16_384, kdf: TEST_KDF, parity: 0 });
        const recordId = record.recordId;
        const result = { envelopeLength: record.envelopeLength, objects: record.objects.map((bytes, slot) => ({ slot, blob: new Blob([bytes as BlobPart]) })) };
        await storeProtectedRecord(result, recordId, record.recordKey, { db, storage: roomy, notify: () => {} });
        originals.push({ recordId, recordKey: record.recordKey, sequenceKey: key, n: record.objects.length, name, plaintext });
      }
      const total = originals.reduce((a, o) => a + o.n, 0);
      expect(total).toBeGreaterThanOrEqual(200);

      // --- Upload, "reloading the page" RELOADS times ---
      const crashEvery = Math.max(5, Math.floor(total / (RELOADS + 1)));
      const reloads: string[] = [];
      const putsPerGeneration: number[] = [];
      const runnerErrors: string[] = [];
      for (let generation = 0; generation <= RELOADS; generation++) {
        const last = generation === RELOADS;
        const mortal = mortalTransport(last ? null : crashEvery);
        const runner = new OutboxRunner({
          db,
          engine: () => connectTransferEngine({ db, secrets, origin: app.appUrl, transport: mortal.transport, engine: ENGINE }),
          locks: null,
          channelName: null,
          online: ALWAYS_ONLINE,
          backoff: FAST,
          offlineProbe: FAST,
        });
        runner.on('runner-error', ({ error }) => runnerErrors.push(`${generation}: ${error.code}`));
        runner.start();
        const settled = runner.whenSettled().then(() => 'settled' as const);
        const outcome = await Promise.race([mortal.died.then(() => 'crashed' as const), settled]);
        putsPerGeneration.push(mortal.puts());
        if (outcome === 'settled' || last) {
          await settled;
          await runner.stop();
          break;
        }
        // The tab is gone: its connection closes (nothing more can be written through it) and its
        // runner, frozen on the dead transport, is discarded.
        db.close();
        await runner.stop();
        db = await openVaultDb({ name: dbName });
        const counts = await countOutbox(db);
        const uploaded = (await listRecords(db)).reduce((a, r) => a + r.sync.uploaded, 0);
        // The dead tab left at least the PUT it died in as in flight: the next runner must recover it.
        expect(counts.inFlight).toBeGreaterThanOrEqual(1);
        reloads.push(`after ${mortal.puts()} PUTs: ${uploaded}/${total} uploaded, ${counts.inFlight} in flight, ${counts.pending} pending`);
      }
      // Runner errors are the dead tab's closed connection, nothing else.
      expect(runnerErrors.filter((e) => !/STORAGE_/.test(e))).toEqual([]);

      // --- The device's view: nothing left to do, every record synced ---
      expect(await listOutbox(db)).toEqual([]);
      const records = await listRecords(db);
      expect(records).toHaveLength(RECORDS);
      for (const record of records) expect(record.sync).toMatchObject({ state: 'synced', uploaded: record.fragmentCount, lastError: null });

      // --- The bucket, read on disk: each fragment exactly once, byte for byte ---
      const catalog = (await Promise.all(originals.map((o) => getFragments(db, o.recordId)))).flat();
      expect(catalog).toHaveLength(total);
      expect(catalog.every((f) => f.uploadedAt !== null)).toBe(true);
      const expectedKeys = catalog.map((f) => `users/alice/fragments/${f.objectName}`).sort();
      expect(new Set(expectedKeys).size).toBe(total);
      expect(await bucket.list('users/')).toEqual(expectedKeys);
      let bytesChecked = 0;
      for (const fragment of catalog) {
        const stored = await bucket.read(`users/alice/fragments/${fragment.objectName}`);
        expect(sha256Base64(stored), fragment.objectName).toBe(fragment.sha256);
        bytesChecked += stored.length;
      }

      // --- Every record opens with src/core from the bucket, and again after a download through the faults ---
      const reader = await openVaultDb({ name: `${dbName}-reader` });
      await updateCloudSettings(reader, { presignUrl: `${app.appUrl}/api/presign`, token: ALICE }, secrets);
      let downloaded = 0;
      for (const original of originals) {
        const rows = catalog.filter((f) => f.recordId === original.recordId).sort((a, b) => a.position - b.position);
        const fromBucket = await Promise.all(rows.map((f) => bucket.read(`users/alice/fragments/${f.objectName}`)));
        const opened = await openRecord(fromBucket, original.sequenceKey, original.recordKey, original.recordId);
        expect(opened.body).toEqual(original.plaintext);
        expect(opened.metadata.name).toBe(original.name);

        const blobs = await fetchFragments(original.recordId, original.recordKey, original.n, {
          db: reader,
          engine: () => connectTransferEngine({ db: reader, secrets, origin: app.appUrl, transport: fetchTransport, engine: { ...ENGINE, maxAttempts: 6 } }),
        });
        const again = await openRecord(await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer()))), original.sequenceKey, original.recordKey, original.recordId);
        expect(again.body).toEqual(original.plaintext);
        downloaded += blobs.length;
      }
      reader.close();
      db.close();

      const kinds: Exclude<FaultKind, 'pass'>[] = ['drop-before', 'drop-after', 'status-500', 'status-503', 'delay', 'stall'];
      for (const kind of kinds) expect(proxy.stats[kind], kind).toBeGreaterThan(0);
      const faults = kinds.reduce((a, k) => a + proxy.stats[k], 0);
      console.log(
        [
          `chaos (seed ${SEED}): ${RECORDS} records, ${total} fragments, ${(bytesChecked / 1024).toFixed(0)} KiB`,
          `  faults injected: ${faults} (${kinds.map((k) => `${k} ${proxy.stats[k]}`).join(', ')}); passed ${proxy.stats.pass}`,
          `  PUTs sent per page life: ${putsPerGeneration.join(' → ')}; reloads: ${reloads.length ? reloads.join('; ') : 'none'}`,
          `  checked: ${total} fragments in the bucket exactly once and by SHA-256, ${RECORDS} records opened from the bucket, ${downloaded} fragments downloaded through the faults and opened`,
        ].join('\n'),
      );
    },
    60_000 + RECORDS * 8_000,
  );
});
