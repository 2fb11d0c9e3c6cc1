import type { VaultDb } from './open-vault-db.js';
import type { StoredVaultKey } from './schema.js';
import { inTransaction } from './transaction.js';

/**
 * The key vault's two items in IndexedDB; structurally the `KeyVaultStore` that
 * src/services/key-vault.ts expects. Storage only keeps them: the device key is a non-extractable
 * CryptoKey and the vault key is sealed under it, so nothing here is a usable key in the clear.
 */
export interface IdbKeyStore {
  getDeviceKey(): Promise<CryptoKey | undefined>;
  putDeviceKey(key: CryptoKey): Promise<void>;
  getVaultKey(): Promise<StoredVaultKey | undefined>;
  putVaultKey(value: StoredVaultKey): Promise<void>;
}

export function idbKeyStore(db: VaultDb): IdbKeyStore {
  return {
    getDeviceKey: () => inTransaction(db, ['keys'], 'readonly', 'read the device key', async (tx) => (await tx.objectStore('keys').get('device-key')) as CryptoKey | undefined),
    putDeviceKey: async (key) => {
      await inTransaction(db, ['keys'], 'readwrite', 'save the device key', (tx) => tx.objectStore('keys').put(key, 'device-key'));
    },
    getVaultKey: () => inTransaction(db, ['keys'], 'readonly', 'read the vault key', async (tx) => (await tx.objectStore('keys').get('vault-key')) as StoredVaultKey | undefined),
    putVaultKey: async (value) => {
      await inTransaction(db, ['keys'], 'readwrite', 'save the vault key', (tx) => tx.objectStore('keys').put(value, 'vault-key'));
    },
  };
}
