import type { DBSchema } from 'idb';

/**
 * The one IndexedDB schema of EHR Vault. What is stored here must be safe on a shared or stolen device
 * with an unlocked browser profile: ciphertext fragments, sizes, object names and sync bookkeeping.
 * Never plaintext, file names or an unwrapped record key: those slots exist only in sealed form.
 */
export const DB_NAME = 'ehr-vault';
/** Bump with a new `case` in upgrade.ts; never edit an existing case. */
export const DB_VERSION = 1;

/** A short, storable description of a failure (what `lastError` fields and events carry). */
export interface StoredError {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

/**
 * Bytes sealed by the key vault (services/key-vault.ts: the record key wrapped under the vault key,
 * the metadata encrypted under it). `scheme` names the algorithm so later versions can tell slots
 * apart; storage never interprets the bytes.
 */
export interface SealedBytes {
  readonly scheme: string;
  readonly iv: Uint8Array;
  readonly bytes: Uint8Array;
}

/**
 * `local`: fragments waiting in the outbox; `uploading`: some stored in the cloud; `synced`: all of them;
 * `failed`: an upload needs a person (bad token, refused URL); `remote`: fetched from the cloud, not made
 * here; `deleting`: removal from the cloud is queued.
 */
export type SyncState = 'local' | 'uploading' | 'synced' | 'failed' | 'remote' | 'deleting';

export interface RecordSync {
  readonly state: SyncState;
  /** Fragments known to be in the cloud. */
  readonly uploaded: number;
  readonly updatedAt: number;
  readonly lastError: StoredError | null;
}

export interface RecordEntry {
  /** 22 base64url characters (FORMAT.md §2.1): random, says nothing about the record. */
  readonly recordId: string;
  readonly createdAt: number;
  /** n, the sequence key's length. */
  readonly fragmentCount: number;
  /** Unknown (null) for records fetched from the cloud rather than protected here. */
  readonly envelopeLength: number | null;
  /** Byte size of each fragment, by position. */
  readonly fragmentSizes: readonly number[];
  readonly totalBytes: number;
  readonly sync: RecordSync;
  /** The record key wrapped by a key service; null until such a service exists (the key is then not kept). */
  readonly wrappedKey: SealedBytes | null;
  /** Name, type and notes sealed by the same key service; null until then. */
  readonly encryptedMetadata: SealedBytes | null;
}

export interface FragmentEntry {
  readonly recordId: string;
  /** The object's slot (FORMAT.md §4): its index characters are sealed inside it, never stored here. */
  readonly position: number;
  /** Cloud object name (FORMAT.md §2.1); kept so the outbox can upload without the record key. */
  readonly objectName: string;
  readonly size: number;
  /** Base64 SHA-256 of the fragment bytes; null when nothing trustworthy was known at caching time. */
  readonly sha256: string | null;
  /** The ciphertext; null when evicted from the cache (it can be fetched again by name). */
  readonly blob: Blob | null;
  /** When the cloud confirmed the upload; null while it is not there (or not known to be). */
  readonly uploadedAt: number | null;
}

export type OutboxOp = 'put' | 'delete';
/** Done entries are deleted, so there is no `done` state. */
export type OutboxState = 'pending' | 'in-flight' | 'failed';

export interface OutboxEntry {
  readonly recordId: string;
  readonly position: number;
  /** Kept here too: a `delete` outlives the fragment row it removes. */
  readonly objectName: string;
  readonly op: OutboxOp;
  readonly state: OutboxState;
  /** Attempts that ended in a failure (an interrupted one does not count). */
  readonly attempts: number;
  /** Epoch ms; the entry is due when this has passed. */
  readonly nextAttemptAt: number;
  readonly lastError: StoredError | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface CloudSettings {
  /** Absolute URL of a presign service (POST …/presign). */
  readonly presignUrl: string;
  /**
   * Bearer token for it, sealed under the vault key (so under the passphrase lock too): it grants access
   * to the user's ciphertext, never to keys, but must not be readable from a copy of the profile.
   */
  readonly sealedToken?: SealedBytes | undefined;
  /** Before issue #14 the token was stored in the clear; such a row is sealed at the next unlock. */
  readonly token?: string | undefined;
  readonly updatedAt: number;
}

/** The key vault's items: a non-extractable device key, and the vault key wrapped by it. */
export interface StoredVaultKey {
  readonly wrapped: SealedBytes;
  readonly passphrase: { readonly salt: Uint8Array; readonly iterations: number } | null;
}

/**
 * This device's key card (issue #13, FORMAT.md §11.3): a P-256 key pair whose private half is a
 * non-extractable CryptoKey, the public key's bytes and the display name shown on the card.
 */
export interface StoredKeyCard {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly keyPair: CryptoKeyPair;
  readonly createdAt: number;
}

export interface KeyValues {
  /** A WebCrypto key object: IndexedDB keeps it without its bytes ever being readable by script. */
  'device-key': CryptoKey;
  'vault-key': StoredVaultKey;
  'key-card': StoredKeyCard;
}
export type KeyName = keyof KeyValues;

/** An OpenID Connect session: its tokens (access, refresh, expiry) sealed under the vault key. */
export interface OidcSessionSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly sealed: SealedBytes;
  readonly updatedAt: number;
}

export interface SettingsValues {
  cloud: CloudSettings;
  'oidc-session': OidcSessionSettings;
}
export type SettingsKey = keyof SettingsValues;

export interface VaultSchema extends DBSchema {
  records: {
    key: string;
    value: RecordEntry;
    indexes: { 'by-created': number };
  };
  fragments: {
    key: [string, number];
    value: FragmentEntry;
    indexes: { 'by-object-name': string };
  };
  outbox: {
    key: [string, number];
    value: OutboxEntry;
    /** [state, nextAttemptAt]: "pending and due" is one key range. */
    indexes: { 'by-state-due': [OutboxState, number]; 'by-record': string };
  };
  settings: {
    key: SettingsKey;
    value: SettingsValues[SettingsKey];
  };
  keys: {
    key: KeyName;
    value: KeyValues[KeyName];
  };
}

export type StoreName = 'records' | 'fragments' | 'outbox' | 'settings' | 'keys';
export const STORE_NAMES: readonly StoreName[] = ['records', 'fragments', 'outbox', 'settings', 'keys'];
