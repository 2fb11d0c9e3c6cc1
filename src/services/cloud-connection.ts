import type { VaultDb } from '../storage/open-vault-db.js';
import { clearCloudSettings, getCloudSettings, getStorageConnections, saveCloudSettings, saveStorageConnections } from '../storage/settings-repository.js';
import { PRIMARY_PROVIDER } from '../storage/schema.js';
import type { Sealed } from './key-vault.js';
import type { AccessTokenSource } from './presign-client.js';
import { defaultTransport } from './default-transport.js';
import type { Transport } from './http-transport.js';
import { OutboxRunner, type OutboxRunnerOptions } from './outbox-runner.js';
import { PresignClient, resolveCloudEndpoint, sharedEndpoint } from './presign-client.js';
import { ServiceError } from './service-error.js';
import { TransferEngine, type TransferEngineOptions } from './transfer-engine.js';

export interface CloudConnectionOptions {
  readonly db: VaultDb;
  /** The app's origin (GET /api/config lives there). Default: this page's origin. */
  readonly origin?: string | undefined;
  readonly transport?: Transport | undefined;
  /** Tuning for the engine (concurrency, retries, timeouts). */
  readonly engine?: Partial<Omit<TransferEngineOptions, 'presigner' | 'transport'>> | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Opens the sealed token (the KeyVault); without it, or while it is locked, a configured service cannot be used. */
  readonly secrets?: SecretSealer | undefined;
  /** The OpenID Connect session, for a server that signs people in. */
  readonly oidc?: AccessTokenSource | undefined;
}

/** Seals and opens named secrets under the vault key (KeyVault does). Throws VAULT_LOCKED while locked. */
export interface SecretSealer {
  readonly unlocked: boolean;
  sealSecret(name: string, value: string): Promise<Sealed>;
  openSecret(name: string, sealed: Sealed): Promise<string>;
}

const TOKEN_SECRET = 'presign-token';

/**
 * The presign service and token a person set, with the token unsealed; undefined for "the app's own
 * server". A row from before tokens were sealed is sealed now (when the vault is unlocked).
 */
export async function readCloudSettings(db: VaultDb, secrets: SecretSealer | undefined): Promise<{ presignUrl: string; token: string } | undefined> {
  const stored = await getCloudSettings(db);
  if (stored === undefined) return undefined;
  if (stored.sealedToken !== undefined) {
    if (secrets === undefined) throw new ServiceError('CLOUD_NOT_CONFIGURED', 'The access token is sealed and no key vault was given to open it.', {}, { retryable: false });
    return { presignUrl: stored.presignUrl, token: await secrets.openSecret(TOKEN_SECRET, stored.sealedToken) };
  }
  const legacy = stored.token ?? '';
  if (secrets?.unlocked === true && legacy !== '') {
    await saveCloudSettings(db, { presignUrl: stored.presignUrl, sealedToken: await secrets.sealSecret(TOKEN_SECRET, legacy), updatedAt: stored.updatedAt });
  }
  return { presignUrl: stored.presignUrl, token: legacy };
}

function defaultOrigin(): string {
  if (typeof location !== 'undefined') return location.origin;
  throw new ServiceError('CLOUD_NOT_CONFIGURED', 'No app origin to read the cloud configuration from.', {}, { retryable: false });
}

/**
 * A transfer engine for the presign service the settings name (item 7), or the app's own server with
 * its /api/config token when none is set.
 */
export async function connectTransferEngine(options: CloudConnectionOptions): Promise<TransferEngine> {
  const transport = options.transport ?? defaultTransport();
  return new TransferEngine({ ...options.engine, presigner: await connectPresignClient(options), transport });
}

/** The presign client for the service the settings name (or the app's own server). */
export async function connectPresignClient(options: CloudConnectionOptions): Promise<PresignClient> {
  const transport = options.transport ?? defaultTransport();
  const settings = await readCloudSettings(options.db, options.secrets);
  const endpoint = await resolveCloudEndpoint({ origin: options.origin ?? defaultOrigin(), settings, transport, signal: options.signal, oidc: options.oidc });
  return new PresignClient(endpoint, transport);
}

/**
 * A transfer engine that reads a record someone shared by link (issue #13): the app's own server's
 * anonymous, read-only endpoint, naming the owner's storage. No token, no settings: works with no account.
 */
export function connectSharedTransferEngine(options: Pick<CloudConnectionOptions, 'origin' | 'transport' | 'engine'> & { readonly storageId: string }): TransferEngine {
  const transport = options.transport ?? defaultTransport();
  return new TransferEngine({ ...options.engine, presigner: new PresignClient(sharedEndpoint(options.origin ?? defaultOrigin(), options.storageId), transport), transport });
}

/**
 * A transfer engine for one storage connection (issue 17): the primary one (settings or the app's own
 * server) or one of the extra connections Settings hold.
 */
export async function connectProviderEngine(options: CloudConnectionOptions, provider: string): Promise<TransferEngine> {
  if (provider === PRIMARY_PROVIDER) return connectTransferEngine(options);
  const transport = options.transport ?? defaultTransport();
  return new TransferEngine({ ...options.engine, presigner: await connectProviderClient(options, provider), transport });
}

/** The presign client of one storage connection. */
export async function connectProviderClient(options: CloudConnectionOptions, provider: string): Promise<PresignClient> {
  if (provider === PRIMARY_PROVIDER) return connectPresignClient(options);
  const transport = options.transport ?? defaultTransport();
  const stored = (await getStorageConnections(options.db)).connections.find((c) => c.id === provider);
  if (stored === undefined) {
    throw new ServiceError('CLOUD_NOT_CONFIGURED', 'A storage connection this record uses was removed from Settings.', { provider }, { retryable: false });
  }
  if (options.secrets === undefined) throw new ServiceError('CLOUD_NOT_CONFIGURED', 'The access token is sealed and no key vault was given to open it.', {}, { retryable: false });
  const token = await options.secrets.openSecret(`${TOKEN_SECRET}:${provider}`, stored.sealedToken);
  const endpoint = await resolveCloudEndpoint({ origin: options.origin ?? defaultOrigin(), settings: { presignUrl: stored.presignUrl, token }, transport, signal: options.signal });
  return new PresignClient(endpoint, transport);
}

/** The ids of every storage connection, primary first: the providers a record protected now is spread over. */
export async function storageProviderIds(db: VaultDb): Promise<string[]> {
  return [PRIMARY_PROVIDER, ...(await getStorageConnections(db)).connections.map((c) => c.id)];
}

/** The extra storage connections, as Settings lists them (no tokens). */
export async function listStorageConnections(db: VaultDb): Promise<{ id: string; presignUrl: string }[]> {
  return (await getStorageConnections(db)).connections.map((c) => ({ id: c.id, presignUrl: c.presignUrl }));
}

/** Adds a storage connection (its token sealed under the vault key); returns its id. */
export async function addStorageConnection(db: VaultDb, settings: { readonly presignUrl: string; readonly token: string }, secrets: SecretSealer, runner?: OutboxRunner): Promise<string> {
  const url = checkPresignUrl(settings.presignUrl);
  if (settings.token.trim() === '') throw new ServiceError('CLOUD_NOT_CONFIGURED', 'Enter the access token for the presign service.', {}, { retryable: false });
  const id = `c${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
  const current = await getStorageConnections(db);
  const sealedToken = await secrets.sealSecret(`${TOKEN_SECRET}:${id}`, settings.token.trim());
  await saveStorageConnections(db, { connections: [...current.connections, { id, presignUrl: url.href, sealedToken, addedAt: Date.now() }] });
  runner?.reconfigure();
  return id;
}

/**
 * Removes a storage connection from the list new records are spread over. Records already stored with
 * it keep naming it: until it is added back, their objects there count as lost (parity covers up to p).
 */
export async function removeStorageConnection(db: VaultDb, id: string, runner?: OutboxRunner): Promise<void> {
  const current = await getStorageConnections(db);
  await saveStorageConnections(db, { connections: current.connections.filter((c) => c.id !== id) });
  runner?.reconfigure();
}

function checkPresignUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ServiceError('CLOUD_NOT_CONFIGURED', 'The presign service address is not a URL (e.g. https://vault.example.org/api/presign).', {}, { retryable: false });
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    // The token travels with every presign request: only over TLS, except to this machine.
    throw new ServiceError('CLOUD_NOT_CONFIGURED', 'The presign service must use https:// (http:// only for localhost).', {}, { retryable: false });
  }
  return url;
}

/** Creates and starts the outbox runner of this tab (it waits for the Web Lock if another tab runs one). */
export function startOutboxRunner(options: CloudConnectionOptions & { readonly runner?: Partial<Omit<OutboxRunnerOptions, 'db' | 'engine'>> | undefined }): OutboxRunner {
  const runner = new OutboxRunner({ ...options.runner, db: options.db, engine: (provider) => connectProviderEngine(options, provider) });
  runner.start();
  return runner;
}

/**
 * Saves (or, with null, clears: back to the app's own server) the presign service and token, and makes
 * the runner use them from its next round. The URL must be absolute http(s); https unless local.
 */
export async function updateCloudSettings(
  db: VaultDb,
  settings: { readonly presignUrl: string; readonly token: string } | null,
  secrets: SecretSealer,
  runner?: OutboxRunner,
): Promise<void> {
  if (settings === null) {
    await clearCloudSettings(db);
  } else {
    const url = checkPresignUrl(settings.presignUrl);
    if (settings.token.trim() === '') throw new ServiceError('CLOUD_NOT_CONFIGURED', 'Enter the access token for the presign service.', {}, { retryable: false });
    // Sealed under the vault key: never stored in the clear (VAULT_LOCKED while the vault is locked).
    await saveCloudSettings(db, { presignUrl: url.href, sealedToken: await secrets.sealSecret(TOKEN_SECRET, settings.token.trim()), updatedAt: Date.now() });
  }
  runner?.reconfigure();
}
