import type { VaultDb } from './open-vault-db.js';
import type { RecordEntry, SealedBytes } from './schema.js';
import { inTransaction } from './transaction.js';

/**
 * Gives a catalog entry its sealed key and description (a record opened from the cloud, or restored
 * from a backup), creating the entry when the catalog has none. Entries that already have a key keep it.
 */
export async function attachSealedKey(db: VaultDb, base: RecordEntry, wrappedKey: SealedBytes, encryptedMetadata: SealedBytes): Promise<void> {
  await inTransaction(db, ['records'], 'readwrite', 'save the record key', async (tx) => {
    const store = tx.objectStore('records');
    const existing = await store.get(base.recordId);
    if (existing?.wrappedKey) return;
    await store.put({ ...(existing ?? base), wrappedKey, encryptedMetadata });
  });
}
