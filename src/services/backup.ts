import { asBufferSource, fromBase64Url, toBase64Url, utf8Decoder, utf8Encoder } from '../core/bytes.js';
import { decodeShareText } from '../core/share-text.js';
import { PASSPHRASE_ITERATIONS } from './key-vault.js';
import { requireStrongPassphrase } from './passphrase-strength.js';
import { KeyVaultError } from './key-vault-error.js';

/** One record in a backup: what is needed to find and open it again, and to show it in the list. */
export interface BackupEntry {
  readonly shareText: string;
  readonly fragmentCount: number;
  /** Parity objects (absent in backups written before the app stored parity: p = 0). */
  readonly parityCount?: number | undefined;
  readonly createdAt: number;
  readonly info: { readonly name: string; readonly kind: 'image' | 'file'; readonly mime: string; readonly byteLength: number };
}

export const BACKUP_FORMAT = 'ehr-vault-backup-1';

interface BackupFile {
  readonly format: typeof BACKUP_FORMAT;
  readonly kdf: { readonly name: 'PBKDF2-SHA256'; readonly iterations: number; readonly salt: string };
  readonly iv: string;
  readonly ciphertext: string;
}

async function backupKey(passphrase: string, salt: Uint8Array, iterations: number, usage: KeyUsage): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', utf8Encoder.encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: asBufferSource(salt), iterations }, material, { name: 'AES-GCM', length: 256 }, false, [usage]);
}

/**
 * An encrypted backup of this device's records: record keys, sequence keys and names, sealed with
 * AES-256-GCM under a key from the backup passphrase (PBKDF2-SHA256, 600,000 iterations). It holds no
 * fragments: those stay in the cloud, and the backup finds them again by their derived names.
 */
export async function sealBackup(entries: readonly BackupEntry[], passphrase: string, iterations = PASSPHRASE_ITERATIONS): Promise<Blob> {
  await requireStrongPassphrase(passphrase, 'backup');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await backupKey(passphrase, salt, iterations, 'encrypt');
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: utf8Encoder.encode(BACKUP_FORMAT) }, key, utf8Encoder.encode(JSON.stringify(entries))));
  const file: BackupFile = { format: BACKUP_FORMAT, kdf: { name: 'PBKDF2-SHA256', iterations, salt: toBase64Url(salt) }, iv: toBase64Url(iv), ciphertext: toBase64Url(ciphertext) };
  return new Blob([JSON.stringify(file)], { type: 'application/json' });
}

export async function openBackup(file: Blob, passphrase: string): Promise<BackupEntry[]> {
  let parsed: BackupFile;
  try {
    parsed = JSON.parse(await file.text()) as BackupFile;
    if (parsed.format !== BACKUP_FORMAT || parsed.kdf?.name !== 'PBKDF2-SHA256' || !Number.isInteger(parsed.kdf.iterations) || parsed.kdf.iterations < 100_000 || parsed.kdf.iterations > 10_000_000) throw new TypeError('format');
  } catch {
    throw new KeyVaultError('KEY_UNAVAILABLE', 'This file is not an EHR Vault backup.', 'Choose a file exported from Settings → Backup.');
  }
  const key = await backupKey(passphrase, fromBase64Url(parsed.kdf.salt), parsed.kdf.iterations, 'decrypt');
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: asBufferSource(fromBase64Url(parsed.iv)), additionalData: utf8Encoder.encode(BACKUP_FORMAT) }, key, asBufferSource(fromBase64Url(parsed.ciphertext))));
  } catch {
    throw new KeyVaultError('WRONG_PASSPHRASE', 'The backup passphrase is not correct, or the file was altered.', 'Check the passphrase used when the backup was made.');
  }
  const entries = JSON.parse(utf8Decoder.decode(plain)) as BackupEntry[];
  // Every share text must parse: a damaged entry is refused rather than imported half-way.
  for (const entry of entries) decodeShareText(entry.shareText);
  return entries;
}
