import { describe, expect, it } from 'vitest';
import { generateRecordKey, toHex } from '../../../src/core/index.js';
import { KeyVault, PASSPHRASE_ITERATIONS, type KeyVaultStore, type WrappedVaultKey } from '../../../src/services/key-vault.js';

function memoryStore(): KeyVaultStore & { vault?: WrappedVaultKey; device?: CryptoKey } {
  const store: KeyVaultStore & { vault?: WrappedVaultKey; device?: CryptoKey } = {
    getDeviceKey: async () => store.device,
    putDeviceKey: async (k) => {
      store.device = k;
    },
    getVaultKey: async () => store.vault,
    putVaultKey: async (v) => {
      store.vault = v;
    },
  };
  return store;
}

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? 'untyped');

describe('key vault', () => {
  it('wraps record keys under a non-extractable device key; nothing stored holds the key in the clear', async () => {
    const store = memoryStore();
    const vault = new KeyVault(store);
    await vault.unlock();
    const recordKey = generateRecordKey();
    const sealed = await vault.wrapRecordKey('AAECAwQFBgcICQoLDA0ODw', recordKey);
    expect(toHex(sealed.bytes)).not.toContain(toHex(recordKey));
    expect(store.device!.extractable).toBe(false);
    expect(toHex(await vault.unwrapRecordKey('AAECAwQFBgcICQoLDA0ODw', sealed))).toBe(toHex(recordKey));
    // Bound to its record: the same sealed key does not open under another record id.
    expect(await codeOf(() => vault.unwrapRecordKey('BBECAwQFBgcICQoLDA0ODw', sealed))).toBe('KEY_UNAVAILABLE');
    // A second session on the same device unlocks without a passphrase and reads the same keys.
    const again = new KeyVault(store);
    await again.unlock();
    expect(toHex(await again.unwrapRecordKey('AAECAwQFBgcICQoLDA0ODw', sealed))).toBe(toHex(recordKey));
  });

  it('a passphrase lock is needed to unlock, a wrong one is refused, and removing it keeps every key', async () => {
    const store = memoryStore();
    const vault = new KeyVault(store);
    await vault.unlock();
    const recordKey = generateRecordKey();
    const sealed = await vault.wrapRecordKey('AAECAwQFBgcICQoLDA0ODw', recordKey);
    expect(await codeOf(() => vault.setPassphrase('short'))).toBe('PASSPHRASE_TOO_WEAK');
    await vault.setPassphrase('correct horse battery', undefined, 2_000);
    expect(store.vault!.passphrase!.iterations).toBe(2_000);
    vault.lock();
    expect(vault.unlocked).toBe(false);
    expect(await codeOf(() => vault.wrapRecordKey('AAECAwQFBgcICQoLDA0ODw', recordKey))).toBe('VAULT_LOCKED');
    expect(await codeOf(() => vault.unlock())).toBe('VAULT_LOCKED');
    expect(await codeOf(() => vault.unlock('wrong horse battery'))).toBe('WRONG_PASSPHRASE');
    await vault.unlock('correct horse battery');
    expect(toHex(await vault.unwrapRecordKey('AAECAwQFBgcICQoLDA0ODw', sealed))).toBe(toHex(recordKey));
    expect(await codeOf(() => vault.setPassphrase(null, 'nope nope nope'))).toBe('WRONG_PASSPHRASE');
    await vault.setPassphrase(null, 'correct horse battery');
    const fresh = new KeyVault(store);
    await fresh.unlock();
    expect(toHex(await fresh.unwrapRecordKey('AAECAwQFBgcICQoLDA0ODw', sealed))).toBe(toHex(recordKey));
  });

  it('uses at least 600,000 PBKDF2 iterations by default', () => {
    expect(PASSPHRASE_ITERATIONS).toBeGreaterThanOrEqual(600_000);
  });

  it('seals metadata as JSON bound to its record', async () => {
    const vault = new KeyVault(memoryStore());
    await vault.unlock();
    const sealed = await vault.sealJson('AAECAwQFBgcICQoLDA0ODw', { name: 'x-ray.png', sequenceKey: 'adk21937' });
    expect(new TextDecoder().decode(sealed.bytes)).not.toContain('x-ray');
    expect(await vault.openJson('AAECAwQFBgcICQoLDA0ODw', sealed)).toEqual({ name: 'x-ray.png', sequenceKey: 'adk21937' });
  });
});
