import { openDB, type IDBPDatabase } from 'idb';
import { DB_NAME, DB_VERSION, type VaultSchema } from './schema.js';
import { StorageError, toStorageError } from './storage-error.js';
import { upgradeVaultDb } from './upgrade.js';

export type VaultDb = IDBPDatabase<VaultSchema>;

export interface OpenVaultDbOptions {
  /** Tests use their own names; the app uses the default. */
  readonly name?: string | undefined;
  /** Called when another tab needs a newer schema and this connection closed itself for it. */
  readonly onVersionChange?: (() => void) | undefined;
}

/**
 * Opens (creating or upgrading) the database. A connection that blocks another tab's upgrade closes
 * itself: the newer code wins and this tab is told to reload, instead of both tabs hanging.
 */
export async function openVaultDb(options: OpenVaultDbOptions = {}): Promise<VaultDb> {
  if (typeof indexedDB === 'undefined') {
    throw new StorageError('STORAGE_UNAVAILABLE', 'This browser has no IndexedDB.');
  }
  let db: VaultDb | undefined;
  try {
    db = await openDB<VaultSchema>(options.name ?? DB_NAME, DB_VERSION, {
      upgrade(database, oldVersion, _newVersion, transaction) {
        upgradeVaultDb(database, oldVersion, transaction);
      },
      blocking() {
        db?.close();
        options.onVersionChange?.();
      },
    });
    return db;
  } catch (error) {
    throw toStorageError(error, 'open the on-device database');
  }
}
