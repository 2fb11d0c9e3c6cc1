import type { VaultDb } from './open-vault-db.js';
import type { StoredKeyCard } from './schema.js';
import { inTransaction } from './transaction.js';

/**
 * This device's key card in the `keys` store (no schema change: one more named item). Storage only keeps
 * it: the private key is a non-extractable CryptoKey, so no script can read its bytes.
 */
export async function getKeyCard(db: VaultDb): Promise<StoredKeyCard | undefined> {
  return inTransaction(db, ['keys'], 'readonly', 'read the key card', async (tx) => (await tx.objectStore('keys').get('key-card')) as StoredKeyCard | undefined);
}

export async function saveKeyCard(db: VaultDb, card: StoredKeyCard): Promise<void> {
  await inTransaction(db, ['keys'], 'readwrite', 'save the key card', (tx) => tx.objectStore('keys').put(card, 'key-card'));
}

export async function deleteKeyCard(db: VaultDb): Promise<void> {
  await inTransaction(db, ['keys'], 'readwrite', 'remove the key card', (tx) => tx.objectStore('keys').delete('key-card'));
}
