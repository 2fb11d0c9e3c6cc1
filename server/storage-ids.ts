import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { USER_ID_PATTERN } from './object-key.js';

/**
 * Opaque storage ids (issue #13): a share link names the owner's storage by an id that is neither the
 * user id nor a name or e-mail, and that only this service can read. It is the user id sealed with
 * AES-256-GCM under a server key, with a nonce derived from the user id (SIV-style), so one user always
 * gets the same id, ids cannot be forged, and their length does not give the user id's length away.
 */
const PADDED_LENGTH = 32;
const NONCE = 12;
const TAG = 16;
const ID_PATTERN = /^[A-Za-z0-9_-]{80}$/;

export interface StorageIds {
  idFor(userId: string): string;
  /** The user id behind a storage id, or undefined for anything this service did not issue. */
  userFor(storageId: string): string | undefined;
}

function pad(userId: string): Buffer {
  const bytes = Buffer.from(userId, 'utf8');
  if (bytes.length > PADDED_LENGTH) return Buffer.concat([bytes, Buffer.alloc(64 - bytes.length)]);
  return Buffer.concat([bytes, Buffer.alloc(PADDED_LENGTH - bytes.length)]);
}

export function createStorageIds(key: Uint8Array): StorageIds {
  if (key.length !== 32) throw new Error('the storage-id key is 32 bytes');
  const k = Buffer.from(key);
  return {
    idFor(userId) {
      if (!USER_ID_PATTERN.test(userId)) throw new Error('invalid user id');
      const plain = pad(userId);
      const nonce = createHmac('sha256', k).update('ehrv storage-id nonce\0').update(plain).digest().subarray(0, NONCE);
      const cipher = createCipheriv('aes-256-gcm', k, nonce);
      const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return Buffer.concat([nonce, sealed]).toString('base64url');
    },
    userFor(storageId) {
      if (!ID_PATTERN.test(storageId)) return undefined;
      const bytes = Buffer.from(storageId, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', k, bytes.subarray(0, NONCE));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
        const plain = Buffer.concat([decipher.update(bytes.subarray(NONCE, bytes.length - TAG)), decipher.final()]);
        const userId = plain.toString('utf8').replace(/\0+$/u, '');
        return USER_ID_PATTERN.test(userId) ? userId : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The key: `EHRV_STORAGE_ID_KEY` (64 hex digits) when set; else kept in a file next to the embedded store's
 * data, so links stay valid across restarts; else (external store, nothing configured) random per start.
 */
export function loadStorageIdKey(configured: string | undefined, keyFile: string | undefined, log: (line: string) => void): Uint8Array {
  if (configured !== undefined) {
    if (!/^[0-9a-f]{64}$/i.test(configured)) throw new Error('EHRV_STORAGE_ID_KEY must be 64 hex digits');
    return Buffer.from(configured, 'hex');
  }
  if (keyFile !== undefined) {
    if (existsSync(keyFile)) {
      const hex = readFileSync(keyFile, 'utf8').trim();
      if (/^[0-9a-f]{64}$/i.test(hex)) return Buffer.from(hex, 'hex');
    }
    const key = randomBytes(32);
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, key.toString('hex'), { mode: 0o600 });
    return key;
  }
  log('[presign] EHRV_STORAGE_ID_KEY is not set: share links name storage by ids that change at every restart');
  return randomBytes(32);
}
