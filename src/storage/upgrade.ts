import type { IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { VaultSchema } from './schema.js';

/**
 * Schema migrations. Each case brings the database from version `case` to `case + 1` and falls
 * through, so a browser that skipped versions runs every step it missed, in order. Steps are never
 * edited once released; a change is a new case (and a DB_VERSION bump in schema.ts).
 */
export function upgradeVaultDb(
  db: IDBPDatabase<VaultSchema>,
  oldVersion: number,
  _transaction: IDBPTransaction<VaultSchema, StoreNames<VaultSchema>[], 'versionchange'>,
): void {
  switch (oldVersion) {
    case 0: {
      const records = db.createObjectStore('records', { keyPath: 'recordId' });
      records.createIndex('by-created', 'createdAt');
      const fragments = db.createObjectStore('fragments', { keyPath: ['recordId', 'position'] });
      // Unique: two records can never share an object name (it is an HMAC of the record id), so a
      // collision means a bug that must not silently overwrite another record's fragment.
      fragments.createIndex('by-object-name', 'objectName', { unique: true });
      const outbox = db.createObjectStore('outbox', { keyPath: ['recordId', 'position'] });
      outbox.createIndex('by-state-due', ['state', 'nextAttemptAt']);
      outbox.createIndex('by-record', 'recordId');
      db.createObjectStore('settings');
      db.createObjectStore('keys');
    }
    // Version 2 goes here as `case 1:`, and this case then falls through into it. tsconfig has
    // noFallthroughCasesInSwitch, so mark `case 0:` with `// @ts-expect-error TS7029 deliberate fall-through`.
  }
}
