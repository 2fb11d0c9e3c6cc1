import { asBufferSource, utf8Decoder, utf8Encoder } from '../core/bytes.js';
import { RECORD_KEY_LENGTH } from '../core/keychain.js';
import { KeyVaultError } from './key-vault-error.js';
import { requireStrongPassphrase } from './passphrase-strength.js';

/** Sealed bytes as the catalog stores them (same shape as storage's SealedBytes). */
export interface Sealed {
  readonly scheme: string;
  readonly iv: Uint8Array;
  readonly bytes: Uint8Array;
}

/** How the vault key is kept at rest: wrapped by the device key, and optionally by a passphrase too. */
export interface WrappedVaultKey {
  readonly wrapped: Sealed;
  readonly passphrase: { readonly salt: Uint8Array; readonly iterations: number } | null;
}

/** Where the key vault keeps its two items (IndexedDB in the app, memory in tests). */
export interface KeyVaultStore {
  getDeviceKey(): Promise<CryptoKey | undefined>;
  putDeviceKey(key: CryptoKey): Promise<void>;
  getVaultKey(): Promise<WrappedVaultKey | undefined>;
  putVaultKey(value: WrappedVaultKey): Promise<void>;
}

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA256. */
export const PASSPHRASE_ITERATIONS = 600_000;
const SCHEME = 'ehrv-vault-aes256gcm-v1';
const DEVICE_SCHEME = 'ehrv-device-aes256gcm-v1';
const PASSPHRASE_SCHEME = 'ehrv-passphrase-pbkdf2-aes256gcm-v1';

async function seal(key: CryptoKey, plaintext: Uint8Array, scheme: string, aad: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const bytes = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8Encoder.encode(aad) }, key, asBufferSource(plaintext)));
  return { scheme, iv, bytes };
}

async function unseal(key: CryptoKey, sealed: Sealed, aad: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: asBufferSource(sealed.iv), additionalData: utf8Encoder.encode(aad) }, key, asBufferSource(sealed.bytes)));
}

async function passphraseKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8Encoder.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: asBufferSource(salt), iterations }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

function importVaultKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', asBufferSource(raw), { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/**
 * Keeps record keys on the device, never in the clear at rest.
 *
 * Hierarchy: a non-extractable device key (WebCrypto, stored in IndexedDB as a CryptoKey, so its bytes
 * cannot be read even by our own code) wraps a random vault key; with a passphrase lock, the vault key is
 * first wrapped under a PBKDF2-SHA256 key (600,000 iterations), so a copy of the database alone is not
 * enough. Record keys and record metadata are sealed under the vault key. Adding or removing the
 * passphrase rewraps only the vault key. "Lock" forgets the unwrapped vault key.
 */
export class KeyVault {
  private vaultKey: CryptoKey | undefined;

  constructor(private readonly store: KeyVaultStore) {}

  get unlocked(): boolean {
    return this.vaultKey !== undefined;
  }

  private async deviceKey(): Promise<CryptoKey> {
    const existing = await this.store.getDeviceKey();
    if (existing) return existing;
    const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    await this.store.putDeviceKey(key);
    return key;
  }

  /** True when a passphrase is needed to unlock. */
  async hasPassphrase(): Promise<boolean> {
    return (await this.store.getVaultKey())?.passphrase != null;
  }

  /**
   * Unlocks without a passphrase when none is set (creating the vault on first use); with a passphrase
   * set, `passphrase` is required.
   */
  async unlock(passphrase?: string): Promise<void> {
    if (this.vaultKey) return;
    const device = await this.deviceKey();
    const stored = await this.store.getVaultKey();
    if (!stored) {
      const raw = crypto.getRandomValues(new Uint8Array(32));
      await this.store.putVaultKey({ wrapped: await seal(device, raw, DEVICE_SCHEME, 'vault-key'), passphrase: null });
      this.vaultKey = await importVaultKey(raw);
      raw.fill(0);
      return;
    }
    let raw: Uint8Array;
    try {
      raw = await this.rawVaultKey(device, stored, passphrase);
    } catch (cause) {
      if (cause instanceof KeyVaultError) throw cause;
      throw new KeyVaultError('KEY_UNAVAILABLE', 'This device can no longer read its keys.', 'The browser data may have been restored from another device. Import a backup to recover your records.', {}, cause);
    }
    this.vaultKey = await importVaultKey(raw);
    raw.fill(0);
  }

  lock(): void {
    this.vaultKey = undefined;
  }

  /** The vault key's raw bytes, peeled from storage (needed only to re-wrap it). */
  private async rawVaultKey(device: CryptoKey, stored: WrappedVaultKey, passphrase: string | undefined): Promise<Uint8Array> {
    const outer = await unseal(device, stored.wrapped, 'vault-key');
    if (!stored.passphrase) return outer;
    if (passphrase === undefined) throw new KeyVaultError('VAULT_LOCKED', 'The current passphrase is needed.', 'Enter your current passphrase.');
    const kek = await passphraseKey(passphrase, stored.passphrase.salt, stored.passphrase.iterations);
    try {
      return await unseal(kek, { scheme: PASSPHRASE_SCHEME, iv: outer.subarray(0, 12), bytes: outer.subarray(12) }, 'vault-key');
    } catch {
      throw new KeyVaultError('WRONG_PASSPHRASE', 'That passphrase is not correct.', 'Check the passphrase and try again.');
    } finally {
      outer.fill(0);
    }
  }

  /**
   * Sets, changes or removes (`next` = null) the passphrase lock. Changing or removing needs the current
   * passphrase. Only the vault key is re-wrapped; record keys stay as they are.
   */
  async setPassphrase(next: string | null, current?: string, iterations = PASSPHRASE_ITERATIONS): Promise<void> {
    if (next !== null) await requireStrongPassphrase(next, 'lock');
    const device = await this.deviceKey();
    const stored = await this.store.getVaultKey();
    if (!stored) throw new KeyVaultError('VAULT_LOCKED', 'EHR Vault has not been unlocked yet.', 'Unlock it first.');
    const raw = await this.rawVaultKey(device, stored, current);
    try {
      if (next === null) {
        await this.store.putVaultKey({ wrapped: await seal(device, raw, DEVICE_SCHEME, 'vault-key'), passphrase: null });
      } else {
        const salt = crypto.getRandomValues(new Uint8Array(16));
        const inner = await seal(await passphraseKey(next, salt, iterations), raw, PASSPHRASE_SCHEME, 'vault-key');
        const packed = new Uint8Array(inner.iv.length + inner.bytes.length);
        packed.set(inner.iv, 0);
        packed.set(inner.bytes, inner.iv.length);
        await this.store.putVaultKey({ wrapped: await seal(device, packed, DEVICE_SCHEME, 'vault-key'), passphrase: { salt, iterations } });
      }
      this.vaultKey = await importVaultKey(raw);
    } finally {
      raw.fill(0);
    }
  }

  private requireUnlocked(): CryptoKey {
    if (!this.vaultKey) throw new KeyVaultError('VAULT_LOCKED', 'EHR Vault is locked.', 'Unlock it with your passphrase first.');
    return this.vaultKey;
  }

  /** The record id is bound as additional data, so a wrapped key cannot be moved to another record. */
  async wrapRecordKey(recordId: string, recordKey: Uint8Array): Promise<Sealed> {
    return seal(this.requireUnlocked(), recordKey, SCHEME, `record-key:${recordId}`);
  }

  async unwrapRecordKey(recordId: string, sealed: Sealed): Promise<Uint8Array> {
    const key = await this.unsealOrFail(sealed, `record-key:${recordId}`);
    if (key.length !== RECORD_KEY_LENGTH) throw new KeyVaultError('KEY_UNAVAILABLE', 'A stored record key is damaged.', 'Open the record with its share text instead.');
    return key;
  }

  /** Seals a named secret (an access or refresh token) under the vault key; `name` is bound as additional data. */
  async sealSecret(name: string, value: string): Promise<Sealed> {
    return seal(this.requireUnlocked(), utf8Encoder.encode(value), SCHEME, `secret:${name}`);
  }

  async openSecret(name: string, sealed: Sealed): Promise<string> {
    return utf8Decoder.decode(await this.unsealOrFail(sealed, `secret:${name}`));
  }

  async sealJson(recordId: string, value: unknown): Promise<Sealed> {
    return seal(this.requireUnlocked(), utf8Encoder.encode(JSON.stringify(value)), SCHEME, `metadata:${recordId}`);
  }

  async openJson<T>(recordId: string, sealed: Sealed): Promise<T> {
    return JSON.parse(utf8Decoder.decode(await this.unsealOrFail(sealed, `metadata:${recordId}`))) as T;
  }

  private async unsealOrFail(sealed: Sealed, aad: string): Promise<Uint8Array> {
    const key = this.requireUnlocked();
    try {
      return await unseal(key, sealed, aad);
    } catch (cause) {
      throw new KeyVaultError('KEY_UNAVAILABLE', 'A stored key could not be read on this device.', 'Open the record with its share text and sequence key instead.', {}, cause);
    }
  }
}
