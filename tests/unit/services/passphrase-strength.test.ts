/**
 * Issue #14: any 8-character passphrase was accepted for the lock and the backup ("password",
 * "12345678", "qwertyui"). They are now checked with zxcvbn-ts; weak ones are refused with the reason.
 */
import { describe, expect, it } from 'vitest';
import { sealBackup } from '../../../src/services/backup.js';
import { KeyVault, type KeyVaultStore, type WrappedVaultKey } from '../../../src/services/key-vault.js';
import { MIN_SCORE, passphraseStrength } from '../../../src/services/passphrase-strength.js';

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

const WEAK = ['password', '12345678', 'qwertyui', 'aaaaaaaaaaaa', 'password123', 'ehrvault2024', 'iloveyou12', '01/02/1990x'];
const STRONG = ['correct horse battery staple', 'violet tractor under my pillow', 'Gr@vel-lemon-7-orbit'];

describe('passphrase strength (issue #14)', () => {
  it.each(WEAK)('refuses %j for the lock with PASSPHRASE_TOO_WEAK, the reason and what to do', async (passphrase) => {
    const vault = new KeyVault(memoryStore());
    await vault.unlock();
    const error = await vault.setPassphrase(passphrase, undefined, 1_000).then(() => undefined, (e: unknown) => e as { code: string; message: string; hint: string });
    expect(error?.code).toBe('PASSPHRASE_TOO_WEAK');
    expect(error?.message).toMatch(/too easy to guess: .+ \(strength \d of 4, 3 needed\)/);
    expect(error?.hint).toMatch(/unrelated words/);
    // Nothing changed: still no passphrase.
    expect(await vault.hasPassphrase()).toBe(false);
  });

  it.each(WEAK.slice(0, 3))('refuses %j for a backup', async (passphrase) => {
    expect(await sealBackup([], passphrase, 1_000).then(() => 'ok', (e: { code?: string }) => e.code)).toBe('PASSPHRASE_TOO_WEAK');
  });

  it.each(STRONG)('accepts %j', async (passphrase) => {
    const strength = await passphraseStrength(passphrase);
    expect(strength.score).toBeGreaterThanOrEqual(MIN_SCORE);
    expect(strength.problem).toBeNull();
    const vault = new KeyVault(memoryStore());
    await vault.unlock();
    await vault.setPassphrase(passphrase, undefined, 1_000);
    expect(await vault.hasPassphrase()).toBe(true);
  });

  it('says why in words', async () => {
    expect((await passphraseStrength('qwertyuiop')).problem).toMatch(/hundred most used|keyboard/);
    expect((await passphraseStrength('aaaaaaaaaaaa')).problem).toMatch(/repeated/);
    expect((await passphraseStrength('short1!')).problem).toMatch(/fewer than 10 characters/);
  });
});
