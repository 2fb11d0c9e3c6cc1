import 'fake-indexeddb/auto';
/**
 * Issue #14: a configured bearer token was stored in the clear in IndexedDB, readable from a copy of the
 * browser profile and not covered by the passphrase lock. It is now sealed under the vault key.
 */
import { describe, expect, it } from 'vitest';
import { connectTransferEngine, readCloudSettings, updateCloudSettings } from '../../../src/services/cloud-connection.js';
import { KeyVault, type KeyVaultStore, type WrappedVaultKey } from '../../../src/services/key-vault.js';
import { saveCloudSettings } from '../../../src/storage/settings-repository.js';
import { freshDb } from '../storage/helpers.js';

const TOKEN = 'my-secret-presign-token-0123456789';
const URL_ = 'https://vault.example.org/api/presign';

function memoryStore(): KeyVaultStore {
  let device: CryptoKey | undefined;
  let vault: WrappedVaultKey | undefined;
  return {
    getDeviceKey: async () => device,
    putDeviceKey: async (k) => void (device = k),
    getVaultKey: async () => vault,
    putVaultKey: async (v) => void (vault = v),
  };
}

/** Every byte of the settings store, as someone with a copy of the profile would read it. */
async function settingsBytes(db: Awaited<ReturnType<typeof freshDb>>): Promise<string> {
  const values = await db.getAll('settings');
  return JSON.stringify(values, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value));
}

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

describe('the presign token at rest (issue #14)', () => {
  it('is stored only sealed, and opens only while the vault is unlocked (passphrase lock included)', async () => {
    const db = await freshDb();
    const keys = new KeyVault(memoryStore());
    await keys.unlock();
    await updateCloudSettings(db, { presignUrl: URL_, token: TOKEN }, keys);

    const stored = await settingsBytes(db);
    expect(stored).toContain(URL_);
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(await readCloudSettings(db, keys)).toEqual({ presignUrl: URL_, token: TOKEN });

    await keys.setPassphrase('violet tractor under my pillow', undefined, 1_000);
    keys.lock();
    expect(await codeOf(() => readCloudSettings(db, keys))).toBe('VAULT_LOCKED');
    expect(await codeOf(() => connectTransferEngine({ db, secrets: keys, origin: 'https://vault.example.org' }))).toBe('VAULT_LOCKED');
    // Saving a new token needs the vault unlocked too.
    expect(await codeOf(() => updateCloudSettings(db, { presignUrl: URL_, token: 'another-token-0123456789' }, keys))).toBe('VAULT_LOCKED');
    await keys.unlock('violet tractor under my pillow');
    expect(await readCloudSettings(db, keys)).toEqual({ presignUrl: URL_, token: TOKEN });
    // Another device (another vault key) cannot open it.
    const other = new KeyVault(memoryStore());
    await other.unlock();
    expect(await codeOf(() => readCloudSettings(db, other))).toBe('KEY_UNAVAILABLE');
  });

  it('seals a token an older version stored in the clear, at the first read while unlocked', async () => {
    const db = await freshDb();
    await saveCloudSettings(db, { presignUrl: URL_, token: TOKEN, updatedAt: 1 });
    const keys = new KeyVault(memoryStore());
    await keys.unlock();
    expect(await readCloudSettings(db, keys)).toEqual({ presignUrl: URL_, token: TOKEN });
    expect(await settingsBytes(db)).not.toContain(TOKEN);
    expect(await readCloudSettings(db, keys)).toEqual({ presignUrl: URL_, token: TOKEN });
  });
});
