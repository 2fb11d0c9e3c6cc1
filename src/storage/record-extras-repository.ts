import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { SealedBytes } from './schema.js';
import { toStorageError } from './storage-error.js';

/**
 * What a person adds to a record on this device (title, notes, thumbnail), sealed by the key service
 * before it gets here. A database of its own (`ehr-vault-extras`, version 1), so the catalog's schema
 * stays untouched; losing it loses only these additions, never a record.
 */
interface ExtrasSchema extends DBSchema {
  extras: { key: string; value: { readonly recordId: string; readonly sealed: SealedBytes } };
}

export const EXTRAS_DB_NAME = 'ehr-vault-extras';
let connection: Promise<IDBPDatabase<ExtrasSchema>> | undefined;

function db(): Promise<IDBPDatabase<ExtrasSchema>> {
  connection ??= openDB<ExtrasSchema>(EXTRAS_DB_NAME, 1, {
    upgrade(database) {
      database.createObjectStore('extras', { keyPath: 'recordId' });
    },
  }).catch((error: unknown) => {
    connection = undefined;
    throw toStorageError(error, 'open the on-device database');
  });
  return connection;
}

export async function getSealedExtras(recordId: string): Promise<SealedBytes | undefined> {
  return (await (await db()).get('extras', recordId))?.sealed;
}

export async function allSealedExtras(): Promise<Map<string, SealedBytes>> {
  const rows = await (await db()).getAll('extras');
  return new Map(rows.map((r) => [r.recordId, r.sealed]));
}

export async function putSealedExtras(recordId: string, sealed: SealedBytes): Promise<void> {
  await (await db()).put('extras', { recordId, sealed });
}

export async function deleteSealedExtras(recordId: string): Promise<void> {
  await (await db()).delete('extras', recordId);
}
