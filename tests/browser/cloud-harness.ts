/**
 * Test-only page: the real engine worker, IndexedDB, outbox runner (Web Locks, online/offline events)
 * and XHR transport, exposed to Playwright. Nothing here is part of the app build.
 */
import { toHex, fromHex } from '../../src/core/bytes.js';
import { generateRecordKey } from '../../src/core/keychain.js';
import { generateRecordId } from '../../src/core/object-names.js';
import { isEhrVaultError } from '../../src/core/errors.js';
import { connectTransferEngine, readCloudSettings, startOutboxRunner, updateCloudSettings } from '../../src/services/cloud-connection.js';
import { KeyVault } from '../../src/services/key-vault.js';
import { idbKeyStore } from '../../src/storage/key-repository.js';
import { EngineClient } from '../../src/services/engine-client.js';
import type { OutboxEventMap } from '../../src/services/outbox-events.js';
import type { OutboxRunner } from '../../src/services/outbox-runner.js';
import { fetchFragments, storeProtectedRecord } from '../../src/services/record-store.js';
import { openVaultDb, type VaultDb } from '../../src/storage/open-vault-db.js';
import { countOutbox } from '../../src/storage/outbox-repository.js';
import { getFragments, getRecord } from '../../src/storage/record-repository.js';

const engine = new EngineClient();
let db: VaultDb | undefined;
let keys: KeyVault | undefined;
let runner: OutboxRunner | undefined;
const events: { type: string; detail: unknown }[] = [];
const TUNING = { backoff: { baseMs: 100, maxMs: 1_000 }, stallTimeoutMs: 10_000 };

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not initialised; call cloud.init first`);
  return value;
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

/** Opens the database, points it at the presign service and starts this tab's outbox runner. */
async function init(options: { dbName: string; presignUrl: string; token: string }) {
  db = await openVaultDb({ name: options.dbName });
  keys = new KeyVault(idbKeyStore(db));
  await keys.unlock();
  await updateCloudSettings(db, { presignUrl: options.presignUrl, token: options.token }, keys);
  runner = startOutboxRunner({ db, secrets: keys, engine: TUNING, runner: { offlineProbe: { baseMs: 500, maxMs: 2_000 } } });
  const types: (keyof OutboxEventMap)[] = ['state', 'progress', 'record-synced', 'failed', 'runner-error'];
  for (const type of types) runner.on(type, (detail) => events.push({ type, detail }));
  return { state: runner.state };
}

/** Protects bytes in the engine worker and stores the result (catalog + fragments + outbox). */
async function protectAndStore(options: { base64: string; name: string; mime: string; sequenceKey: string }) {
  const bytes = Uint8Array.from(atob(options.base64), (c) => c.charCodeAt(0));
  const recordKey = generateRecordKey();
  const recordKeyHex = toHex(recordKey);
  const recordId = generateRecordId();
  const result = await engine.protect({ source: new Blob([bytes], { type: options.mime }), name: options.name, mime: options.mime, mode: 'file', sequenceKey: options.sequenceKey, recordKey, recordId, kdf: { memoryKiB: 64, passes: 1, parallelism: 1 }, parity: 0 });
  // The engine received the key by transfer: use the hex copy from here on.
  const record = await storeProtectedRecord(result, recordId, fromHex(recordKeyHex), { db: need(db, 'db') });
  return { recordId, recordKeyHex, n: record.fragmentCount };
}

async function status(recordId: string) {
  const database = need(db, 'db');
  const [record, counts] = await Promise.all([getRecord(database, recordId), countOutbox(database)]);
  return { runner: runner?.state ?? 'none', sync: record?.sync ?? null, counts };
}

async function catalog(recordId: string) {
  const rows = await getFragments(need(db, 'db'), recordId);
  return rows.map((r) => ({ position: r.position, objectName: r.objectName, sha256: r.sha256, size: r.size, uploaded: r.uploadedAt !== null }));
}

/** As another device would: a fresh database, fragments downloaded by derived names, opened in the worker. */
async function fetchAndOpen(options: { recordId: string; recordKeyHex: string; n: number; sequenceKey: string; dbName: string }) {
  const other = await openVaultDb({ name: options.dbName });
  const otherKeys = new KeyVault(idbKeyStore(other));
  await otherKeys.unlock();
  await updateCloudSettings(other, (await readCloudSettings(need(db, 'db'), need(keys, 'keys'))) ?? null, otherKeys);
  try {
    const blobs = await fetchFragments(options.recordId, fromHex(options.recordKeyHex), options.n, { db: other, engine: () => connectTransferEngine({ db: other, secrets: otherKeys, engine: TUNING }) });
    const opened = await engine.open({ objects: blobs, sequenceKey: options.sequenceKey, recordKey: fromHex(options.recordKeyHex), recordId: options.recordId });
    if (opened.kind !== 'file') throw new Error('expected a file record');
    return { sha256: await sha256Hex(await opened.blob.arrayBuffer()), name: opened.metadata.name, size: opened.blob.size };
  } catch (error) {
    return { error: isEhrVaultError(error) ? error.code : String(error) };
  } finally {
    other.close();
  }
}

async function stop() {
  await runner?.stop();
  db?.close();
}

const cloud = { init, protectAndStore, status, catalog, fetchAndOpen, stop, events };
declare global {
  interface Window {
    cloud: typeof cloud;
  }
}
window.cloud = cloud;
document.body.dataset.ready = 'true';
