/** A key vault kept in memory, unlocked, to seal and open the presign token in tests (not a test file). */
import { KeyVault, type KeyVaultStore, type WrappedVaultKey } from '../../src/services/key-vault.js';

export async function testSecrets(): Promise<KeyVault> {
  let device: CryptoKey | undefined;
  let vault: WrappedVaultKey | undefined;
  const store: KeyVaultStore = {
    getDeviceKey: async () => device,
    putDeviceKey: async (key) => void (device = key),
    getVaultKey: async () => vault,
    putVaultKey: async (value) => void (vault = value),
  };
  const keys = new KeyVault(store);
  await keys.unlock();
  return keys;
}
