import { InputInvalidError } from '../core/errors.js';
import { retryAfterMs } from './backoff.js';
import type { Transport } from './http-transport.js';
import { isAbort, isConnectivityError, ServiceError } from './service-error.js';

/** What the presign service (server/README.md) accepts as an object name. */
export const OBJECT_NAME_PATTERN = /^[a-z0-9]{16,64}$/;

export type PresignOperation = 'put' | 'get' | 'head' | 'delete';

/** Where and how to presign: the app's own server by default, or a service a person configured. */
export interface CloudEndpoint {
  /** Absolute URL of POST …/presign. */
  readonly presignUrl: string;
  readonly token: string;
  /**
   * Whether the service says its store verifies the SHA-256 bound into PUT URLs (GET /api/config
   * `checksumSha256`). Informational: `sha256` and `size` are sent with every put either way.
   */
  readonly checksumSha256: boolean;
  readonly maxObjectsPerRequest: number;
  readonly maxObjectBytes: number;
  /** OpenID Connect: a current access token for each request (refreshed as needed); `token` is then unused. */
  readonly accessToken?: (() => Promise<string>) | undefined;
  /** OpenID Connect: the service refused the access token (401); do not use it again. */
  readonly onUnauthorized?: (() => void) | undefined;
  /**
   * Reading a record someone shared (issue #13): `presignUrl` is the service's anonymous, read-only
   * …/shared/presign and every request names the owner's storage by this opaque id, with no token.
   */
  readonly sharedStorage?: string | undefined;
}

/** The anonymous, read-only endpoint of the app's own server for a record shared by link. */
export function sharedEndpoint(origin: string, storageId: string): CloudEndpoint {
  return {
    presignUrl: absoluteUrl('/api/shared/presign', origin),
    token: '',
    checksumSha256: true,
    maxObjectsPerRequest: DEFAULT_LIMITS.maxObjectsPerRequest,
    maxObjectBytes: DEFAULT_LIMITS.maxObjectBytes,
    sharedStorage: storageId,
  };
}

/** What GET /api/config says about signing in with OpenID Connect. */
export interface OidcSignInConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string;
  readonly resource: string | null;
}

/** Gives access tokens of the signed-in session (OidcSession). */
export interface AccessTokenSource {
  accessToken(config: OidcSignInConfig): Promise<string>;
  forgetAccessToken(): void;
}

export interface PresignObject {
  readonly name: string;
  /** put only (required there): base64 SHA-256 of the exact bytes, signed as x-amz-checksum-sha256. */
  readonly sha256?: string | undefined;
  /** put only (required there): exact byte length, signed as Content-Length. */
  readonly size?: number | undefined;
}

export interface PresignedUrl {
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  /** Must be sent exactly: they are part of the signature. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface PresignedBatch {
  /** Epoch ms (server clock) when every URL of the batch stops working. */
  readonly expiresAt: number;
  readonly urls: readonly PresignedUrl[];
}

/** Defaults of the reference server, used when a custom service has no readable /config. */
export const DEFAULT_LIMITS = { maxObjectsPerRequest: 256, maxObjectBytes: 64 * 1024 * 1024 } as const;

const METHODS = new Set(['GET', 'PUT', 'HEAD', 'DELETE']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readJson(body: Blob): Promise<unknown> {
  try {
    return JSON.parse(await body.text()) as unknown;
  } catch {
    return undefined;
  }
}

/** The server's `{ error: { code, message, hint } }`, if it sent one. */
function serverError(json: unknown): { code?: string; message?: string; hint?: string } {
  if (!isRecord(json) || !isRecord(json.error)) return {};
  const { code, message, hint } = json.error;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof hint === 'string' ? { hint } : {}),
  };
}

function parseBatch(json: unknown, requested: readonly PresignObject[], operation: PresignOperation): PresignedBatch {
  const bad = (why: string) => new ServiceError('PRESIGN_REJECTED', `The presign service sent an unexpected answer: ${why}.`, { operation });
  if (!isRecord(json) || typeof json.expiresAt !== 'string' || !Array.isArray(json.urls)) throw bad('not a presign response');
  const expiresAt = Date.parse(json.expiresAt);
  if (Number.isNaN(expiresAt)) throw bad('no expiry');
  const urls: PresignedUrl[] = json.urls.map((raw: unknown) => {
    if (!isRecord(raw) || typeof raw.name !== 'string' || typeof raw.url !== 'string' || typeof raw.method !== 'string' || !METHODS.has(raw.method)) throw bad('malformed URL entry');
    const headers: Record<string, string> = {};
    if (isRecord(raw.headers)) {
      for (const [key, value] of Object.entries(raw.headers)) if (typeof value === 'string') headers[key] = value;
    }
    const url = new URL(raw.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad('URL is not http(s)');
    return { name: raw.name, url: url.href, method: raw.method as PresignedUrl['method'], headers };
  });
  // Each URL must be for exactly the name we asked for: a URL for another name would upload our bytes there.
  if (urls.length !== requested.length || urls.some((u, i) => u.name !== requested[i]!.name)) throw bad('names do not match the request');
  return { expiresAt, urls };
}

/**
 * Talks to a presign service (server/README.md): POST { operation, objects } with a bearer token,
 * gets back short-lived URLs. One call is one HTTP request; batching and retrying are the caller's
 * (the transfer engine's) business. Failures are typed: 401 → PRESIGN_UNAUTHORIZED, 429 →
 * RATE_LIMITED (details.retryAfterMs), 5xx → PRESIGN_UNAVAILABLE, other refusals → PRESIGN_REJECTED.
 */
export class PresignClient {
  constructor(
    readonly endpoint: CloudEndpoint,
    private readonly transport: Transport,
  ) {}

  async presign(operation: PresignOperation, objects: readonly PresignObject[], signal?: AbortSignal): Promise<PresignedBatch> {
    if (objects.length === 0 || objects.length > this.endpoint.maxObjectsPerRequest) {
      throw new InputInvalidError(`Presign 1 to ${this.endpoint.maxObjectsPerRequest} objects per request.`, { count: objects.length });
    }
    for (const object of objects) {
      if (!OBJECT_NAME_PATTERN.test(object.name)) throw new InputInvalidError('Object names are 16-64 characters a-z 0-9.', { name: object.name });
      // The service binds both into every upload URL (server/README.md) and refuses a put without them.
      if (operation === 'put' && (object.sha256 === undefined || object.size === undefined)) {
        throw new InputInvalidError('An upload must name the exact size and SHA-256 of its bytes.', { name: object.name });
      }
    }
    const shared = this.endpoint.sharedStorage;
    const body = JSON.stringify({
      ...(shared !== undefined ? { storage: shared } : {}),
      operation,
      objects: objects.map((o) => ({
        name: o.name,
        ...(operation === 'put' && o.sha256 !== undefined ? { sha256: o.sha256 } : {}),
        ...(operation === 'put' && o.size !== undefined ? { size: o.size } : {}),
      })),
    });
    const response = await this.transport.send(
      {
        method: 'POST',
        url: this.endpoint.presignUrl,
        headers: { ...(shared === undefined ? { authorization: `Bearer ${await this.bearer()}` } : {}), 'content-type': 'application/json' },
        body,
      },
      { signal },
    );
    const json = await readJson(response.body);
    if (response.status === 200) return parseBatch(json, objects, operation);
    const server = serverError(json);
    const details = { status: response.status, ...(server.code ? { serverCode: server.code } : {}), ...(server.hint ? { serverHint: server.hint } : {}) };
    const message = server.message ?? `The presign service answered ${response.status}.`;
    if (response.status === 401) {
      this.endpoint.onUnauthorized?.();
      throw new ServiceError('PRESIGN_UNAUTHORIZED', message, details);
    }
    if (response.status === 429) {
      throw new ServiceError('RATE_LIMITED', message, { ...details, retryAfterMs: retryAfterMs(response.header('retry-after')) });
    }
    if (response.status >= 500 || response.status === 408) throw new ServiceError('PRESIGN_UNAVAILABLE', message, details);
    throw new ServiceError('PRESIGN_REJECTED', message, details);
  }

  private async bearer(): Promise<string> {
    return this.endpoint.accessToken !== undefined ? this.endpoint.accessToken() : this.endpoint.token;
  }

  /** The caller's opaque storage id (GET …/storage-id beside …/presign), for the share links it makes. */
  async storageId(signal?: AbortSignal): Promise<string> {
    const response = await this.transport.send({ method: 'GET', url: new URL('storage-id', this.endpoint.presignUrl).href, headers: { authorization: `Bearer ${await this.bearer()}` } }, { signal });
    const json = await readJson(response.body);
    if (response.status === 200 && isRecord(json) && typeof json.storageId === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(json.storageId)) return json.storageId;
    if (response.status === 401) throw new ServiceError('PRESIGN_UNAUTHORIZED', 'The presign service did not accept the access token.', { status: 401 });
    throw new ServiceError('SHARING_UNAVAILABLE', 'This presign service cannot make share links (it has no storage ids).', { status: response.status }, { retryable: false });
  }
}

export interface ResolveEndpointOptions {
  /** The app's origin (where GET /api/config lives by default). */
  readonly origin: string;
  /** A person's choice of service; without it the app's own server and its dev token are used. */
  readonly settings?: { readonly presignUrl: string; readonly token: string } | undefined;
  readonly transport: Transport;
  readonly signal?: AbortSignal | undefined;
  /** The signed-in OpenID Connect session, for a server that accepts OIDC access tokens. */
  readonly oidc?: AccessTokenSource | undefined;
}

interface PublicConfig {
  presignUrl?: string;
  defaultToken?: string | null;
  oidc?: OidcSignInConfig | null;
  checksumSha256?: boolean;
  maxObjectsPerRequest?: number;
  maxObjectBytes?: number;
}

async function readConfig(url: string, transport: Transport, signal: AbortSignal | undefined): Promise<PublicConfig | undefined> {
  const response = await transport.send({ method: 'GET', url }, { signal });
  if (response.status !== 200) return undefined;
  const json = await readJson(response.body);
  if (!isRecord(json)) return undefined;
  const positive = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
  return {
    ...(typeof json.presignUrl === 'string' ? { presignUrl: json.presignUrl } : {}),
    ...(typeof json.defaultToken === 'string' || json.defaultToken === null ? { defaultToken: json.defaultToken } : {}),
    ...(typeof json.checksumSha256 === 'boolean' ? { checksumSha256: json.checksumSha256 } : {}),
    ...(positive(json.maxObjectsPerRequest) ? { maxObjectsPerRequest: positive(json.maxObjectsPerRequest)! } : {}),
    ...(positive(json.maxObjectBytes) ? { maxObjectBytes: positive(json.maxObjectBytes)! } : {}),
    ...(parseOidc(json.oidc) !== undefined ? { oidc: parseOidc(json.oidc)! } : {}),
  };
}

function parseOidc(value: unknown): OidcSignInConfig | null | undefined {
  if (value === null) return null;
  if (!isRecord(value) || typeof value.issuer !== 'string' || typeof value.clientId !== 'string' || typeof value.scopes !== 'string') return undefined;
  return { issuer: value.issuer, clientId: value.clientId, scopes: value.scopes, resource: typeof value.resource === 'string' ? value.resource : null };
}

/** The app server's OpenID Connect sign-in settings (GET /api/config), or null when it has none. */
export async function readSignInConfig(origin: string, transport: Transport, signal?: AbortSignal): Promise<OidcSignInConfig | null> {
  const config = await readConfig(absoluteUrl('/api/config', origin), transport, signal);
  return config?.oidc ?? null;
}

function absoluteUrl(value: string, base: string): string {
  try {
    const url = new URL(value, base);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    return url.href;
  } catch {
    throw new ServiceError('CLOUD_NOT_CONFIGURED', `The presign service address ${JSON.stringify(value)} is not an http(s) URL.`, {}, { retryable: false });
  }
}

/**
 * Works out which presign service to use. With settings, that service (its limits read from the
 * sibling …/config when it has one; a service without it gets the reference defaults and no checksum
 * binding). Without, the app's own GET /api/config, which names the presign URL and, in development,
 * a token.
 */
export async function resolveCloudEndpoint(options: ResolveEndpointOptions): Promise<CloudEndpoint> {
  const { settings, transport, signal } = options;
  if (settings) {
    const presignUrl = absoluteUrl(settings.presignUrl, options.origin);
    if (settings.token.trim() === '') throw new ServiceError('CLOUD_NOT_CONFIGURED', 'No access token is set for the presign service.', {}, { retryable: false });
    let config: PublicConfig | undefined;
    try {
      config = await readConfig(new URL('config', presignUrl).href, transport, signal);
    } catch (error) {
      // Offline: say so (the runner retries later) rather than settle for defaults for the session.
      if (isConnectivityError(error) || isAbort(error)) throw error;
      // A service without a readable config still works with the reference limits.
      config = undefined;
    }
    return {
      presignUrl,
      token: settings.token,
      checksumSha256: config?.checksumSha256 ?? false,
      maxObjectsPerRequest: config?.maxObjectsPerRequest ?? DEFAULT_LIMITS.maxObjectsPerRequest,
      maxObjectBytes: config?.maxObjectBytes ?? DEFAULT_LIMITS.maxObjectBytes,
    };
  }
  const configUrl = absoluteUrl('/api/config', options.origin);
  const config = await readConfig(configUrl, transport, signal);
  if (config === undefined) {
    throw new ServiceError('PRESIGN_UNAVAILABLE', 'The app server did not provide its cloud configuration (GET /api/config).', { url: configUrl });
  }
  const oidc = config.oidc;
  if (typeof config.defaultToken !== 'string' && oidc != null && config.presignUrl !== undefined) {
    // Sign-in with OpenID Connect: every request asks the session for a current access token.
    if (options.oidc === undefined) throw new ServiceError('SIGN_IN_REQUIRED', 'This server needs you to sign in.', {}, { retryable: false });
    const source = options.oidc;
    return {
      presignUrl: absoluteUrl(config.presignUrl, configUrl),
      token: '',
      accessToken: () => source.accessToken(oidc),
      onUnauthorized: () => source.forgetAccessToken(),
      checksumSha256: config.checksumSha256 ?? false,
      maxObjectsPerRequest: config.maxObjectsPerRequest ?? DEFAULT_LIMITS.maxObjectsPerRequest,
      maxObjectBytes: config.maxObjectBytes ?? DEFAULT_LIMITS.maxObjectBytes,
    };
  }
  if (typeof config.defaultToken !== 'string' || config.presignUrl === undefined) {
    throw new ServiceError('CLOUD_NOT_CONFIGURED', 'This server has no default access token; a presign service and token must be set.', {}, { retryable: false });
  }
  return {
    presignUrl: absoluteUrl(config.presignUrl, configUrl),
    token: config.defaultToken,
    checksumSha256: config.checksumSha256 ?? false,
    maxObjectsPerRequest: config.maxObjectsPerRequest ?? DEFAULT_LIMITS.maxObjectsPerRequest,
    maxObjectBytes: config.maxObjectBytes ?? DEFAULT_LIMITS.maxObjectBytes,
  };
}
