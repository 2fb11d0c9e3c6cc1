import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { openVaultDb } from '../../../src/storage/open-vault-db.js';
import { saveNewRecord, getRecord } from '../../../src/storage/record-repository.js';
import { DB_VERSION, STORE_NAMES } from '../../../src/storage/schema.js';
import { recordIdFor, sampleRecord, uniqueName } from './helpers.js';

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? `untyped: ${String(e)}`);

describe('IndexedDB schema and upgrades', () => {
  it('creates every store with its key path and indexes on first open', async () => {
    const db = await openVaultDb({ name: uniqueName() });
    expect(db.version).toBe(DB_VERSION);
    expect([...db.objectStoreNames].sort()).toEqual([...STORE_NAMES].sort());
    const tx = db.transaction(['records', 'fragments', 'outbox', 'settings', 'keys']);
    const records = tx.objectStore('records');
    expect(records.keyPath).toBe('recordId');
    expect(records.index('by-created').keyPath).toBe('createdAt');
    const fragments = tx.objectStore('fragments');
    expect(fragments.keyPath).toEqual(['recordId', 'position']);
    expect(fragments.index('by-object-name').unique).toBe(true);
    const outbox = tx.objectStore('outbox');
    expect(outbox.keyPath).toEqual(['recordId', 'position']);
    expect(outbox.index('by-state-due').keyPath).toEqual(['state', 'nextAttemptAt']);
    expect(outbox.index('by-record').keyPath).toBe('recordId');
    // Settings and keys are keyed by name, not by a field of the value.
    expect(tx.objectStore('settings').keyPath).toBeNull();
    expect(tx.objectStore('keys').keyPath).toBeNull();
    await tx.done;
    db.close();
  });

  it('keeps data when the database is opened again (no upgrade re-runs on existing data)', async () => {
    const name = uniqueName();
    const id = recordIdFor(1);
    const first = await openVaultDb({ name });
    await saveNewRecord(first, sampleRecord(id));
    first.close();
    const second = await openVaultDb({ name });
    expect((await getRecord(second, id))?.fragmentCount).toBe(8);
    expect(await second.count('fragments')).toBe(8);
    second.close();
  });

  it('refuses, with a typed error, a database written by a newer version of the app', async () => {
    const name = uniqueName();
    const newer = await openDB(name, DB_VERSION + 1, { upgrade: (db) => void db.createObjectStore('future') });
    newer.close();
    expect(await codeOf(() => openVaultDb({ name }))).toBe('STORAGE_VERSION_TOO_NEW');
  });

  it('closes its connection when another tab needs a newer schema, instead of blocking it', async () => {
    const name = uniqueName();
    let told = 0;
    const db = await openVaultDb({ name, onVersionChange: () => (told += 1) });
    // What a newer app version in another tab does: open at a higher version. It must not stay blocked.
    const newer = await openDB(name, DB_VERSION + 1, { upgrade: (database) => void database.createObjectStore('future') });
    expect(told).toBe(1);
    expect(newer.version).toBe(DB_VERSION + 1);
    expect([...newer.objectStoreNames]).toContain('records');
    newer.close();
    // The old connection is closed: using it fails instead of writing under an outdated schema.
    expect(() => db.transaction('records')).toThrow();
  });
});
