import type { VaultDb } from './open-vault-db.js';
import type { CloudSettings, OidcSessionSettings, StorageConnectionSettings } from './schema.js';
import { inTransaction } from './transaction.js';

/** The presign service a person chose; undefined means "use the app's own server" (GET /api/config). */
export async function getCloudSettings(db: VaultDb): Promise<CloudSettings | undefined> {
  return inTransaction(db, ['settings'], 'readonly', 'read settings', async (tx) => (await tx.objectStore('settings').get('cloud')) as CloudSettings | undefined);
}

export async function saveCloudSettings(db: VaultDb, settings: CloudSettings): Promise<void> {
  await inTransaction(db, ['settings'], 'readwrite', 'save settings', (tx) => tx.objectStore('settings').put(settings, 'cloud'));
}

export async function clearCloudSettings(db: VaultDb): Promise<void> {
  await inTransaction(db, ['settings'], 'readwrite', 'save settings', (tx) => tx.objectStore('settings').delete('cloud'));
}

export async function getOidcSession(db: VaultDb): Promise<OidcSessionSettings | undefined> {
  return inTransaction(db, ['settings'], 'readonly', 'read settings', async (tx) => (await tx.objectStore('settings').get('oidc-session')) as OidcSessionSettings | undefined);
}

export async function saveOidcSession(db: VaultDb, session: OidcSessionSettings): Promise<void> {
  await inTransaction(db, ['settings'], 'readwrite', 'save settings', (tx) => tx.objectStore('settings').put(session, 'oidc-session'));
}

export async function clearOidcSession(db: VaultDb): Promise<void> {
  await inTransaction(db, ['settings'], 'readwrite', 'save settings', (tx) => tx.objectStore('settings').delete('oidc-session'));
}

/** The storage connections besides the primary one (none when never set). */
export async function getStorageConnections(db: VaultDb): Promise<StorageConnectionSettings> {
  return inTransaction(db, ['settings'], 'readonly', 'read settings', async (tx) => ((await tx.objectStore('settings').get('storage-connections')) as StorageConnectionSettings | undefined) ?? { connections: [] });
}

export async function saveStorageConnections(db: VaultDb, settings: StorageConnectionSettings): Promise<void> {
  await inTransaction(db, ['settings'], 'readwrite', 'save settings', (tx) => tx.objectStore('settings').put(settings, 'storage-connections'));
}
