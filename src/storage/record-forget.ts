import type { VaultDb } from './open-vault-db.js';
import { StorageError } from './storage-error.js';
import { inTransaction } from './transaction.js';

/**
 * Forgets a record on this device only (catalog entry and cached fragments), leaving its fragments in
 * the cloud. Refused while uploads of it are still queued: forgetting then would lose the record.
 */
export async function forgetRecordLocally(db: VaultDb, recordId: string): Promise<void> {
  await inTransaction(db, ['records', 'fragments', 'outbox'], 'readwrite', 'remove the record from this device', async (tx) => {
    const pending = await tx.objectStore('outbox').index('by-record').count(recordId);
    if (pending > 0) {
      throw new StorageError('RECORD_NOT_UPLOADED', 'This record is not fully in the cloud yet; removing it from this device would lose it.', { recordId, pending });
    }
    const range = IDBKeyRange.bound([recordId, 0], [recordId, Number.MAX_SAFE_INTEGER]);
    await Promise.all([tx.objectStore('records').delete(recordId), tx.objectStore('fragments').delete(range)]);
  });
}
