import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config-error.js';
import { DEFAULT_HTTP_TIMEOUTS, type HttpTimeouts } from './http-server.js';
import { resolveOidcOptions, type OidcOptions, type ResolvedOidcOptions } from './oidc-auth.js';
import { DEV_USER_ID, generateDevToken, validateTokenMap, type TokenMap } from './token-store.js';

/** An S3-compatible store reached over the network (AWS S3, MinIO, Ceph RGW, R2, ...). */
export interface ExternalS3Options {
  endpoint: string;
  region?: string;
  bucket?: string;
  /** Default: false for *.amazonaws.com, true elsewhere. */
  forcePathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

export interface LocalS3Settings {
  /** Default 4568; 0 picks a free port. */
  port?: number;
  /** Default <repo>/.data/s3. */
  dataDir?: string;
  verbose?: boolean;
  /** Extra Host values the embedded store answers to (a reverse proxy in front that keeps its own Host). */
  extraHosts?: string[];
}

export interface StackOptions {
  /** Port of the app + API server. Default 8080; 0 picks a free port. */
  appPort?: number;
  /** The built app. Default <repo>/dist. */
  distDir?: string;
  /** Use this store instead of starting the embedded one. */
  s3?: ExternalS3Options;
  localS3?: LocalS3Settings;
  /** Bucket name (both embedded and external). Default ehr-vault. */
  bucket?: string;
  /** token → userId. When empty and no devToken is given, a dev token for user "dev" is generated. */
  tokens?: TokenMap;
  /** A development token for user "dev", also served by GET /api/config. */
  devToken?: string;
  /** Accept OpenID Connect access tokens (JWTs) from this issuer. No dev token is generated then. */
  oidc?: OidcOptions;
  /** Lifetime of presigned URLs. Default 900 s. */
  presignExpiresSeconds?: number;
  /**
   * Extra browser origins allowed to use the API and the embedded bucket (the app's own origins are
   * always allowed). Default: none. (Any local dev server on a listed origin could read the dev token
   * from /api/config: list the Vite dev server explicitly, e.g. APP_ORIGIN=http://127.0.0.1:5173.)
   */
  appOrigins?: string[];
  rateLimit?: { burst: number; perSecond: number };
  /** Wrong or expired tokens allowed per client address: `burst` at once, refilled at `perSecond`. Default 20, 0.2/s. */
  authFailureLimit?: { burst: number; perSecond: number };
  /** Anonymous shared-record presign requests per client address. Default 30 at once, 1/s. */
  sharedRateLimit?: { burst: number; perSecond: number };
  /** 64 hex digits: the key of opaque storage ids in share links (EHRV_STORAGE_ID_KEY). Default: kept next to the embedded store's data. */
  storageIdKey?: string;
  maxBodyBytes?: number;
  maxObjectsPerRequest?: number;
  maxObjectBytes?: number;
  /** Slow-client limits of the app + API server. Default: headers 10 s, whole request 30 s, idle keep-alive 5 s. */
  httpTimeouts?: Partial<HttpTimeouts>;
  log?: (line: string) => void;
}

export interface ResolvedStackOptions {
  host: string;
  appPort: number;
  distDir: string;
  bucket: string;
  external: (Required<Pick<ExternalS3Options, 'endpoint' | 'region' | 'forcePathStyle'>> & ExternalS3Options) | undefined;
  localS3: { port: number; dataDir: string; verbose: boolean; extraHosts: string[] };
  tokens: TokenMap;
  devToken: string | null;
  oidc: ResolvedOidcOptions | null;
  presignExpiresSeconds: number;
  appOrigins: string[];
  rateLimit: { burst: number; perSecond: number };
  authFailureLimit: { burst: number; perSecond: number };
  sharedRateLimit: { burst: number; perSecond: number };
  storageIdKey: string | undefined;
  maxBodyBytes: number;
  maxObjectsPerRequest: number;
  maxObjectBytes: number;
  httpTimeouts: HttpTimeouts;
  log: (line: string) => void;
}

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAX_PRESIGN_EXPIRY_SECONDS = 604_800;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < min || result > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return result;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result <= 0) throw new ConfigError(`${name} must be a positive number, got ${String(value)}`);
  return result;
}

export function normalizeOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`not a valid origin: ${JSON.stringify(value)} (expected e.g. http://127.0.0.1:5173)`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`not a valid origin: ${JSON.stringify(value)} (scheme://host[:port] only, no path)`);
  }
  return url.origin;
}

function resolveExternal(s3: ExternalS3Options): ResolvedStackOptions['external'] {
  let endpoint: URL;
  try {
    endpoint = new URL(s3.endpoint);
  } catch {
    throw new ConfigError(`S3 endpoint is not a URL: ${JSON.stringify(s3.endpoint)}`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new ConfigError('S3 endpoint must be http(s)');
  if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) {
    throw new ConfigError('set both S3 access key id and secret access key, or neither (to use the AWS default credential chain)');
  }
  return {
    ...s3,
    endpoint: endpoint.href.replace(/\/$/, ''),
    region: s3.region ?? 'us-east-1',
    forcePathStyle: s3.forcePathStyle ?? !endpoint.hostname.endsWith('.amazonaws.com'),
  };
}

function resolveHttpTimeouts(input: Partial<HttpTimeouts> = {}): HttpTimeouts {
  const timeouts = {
    headersMs: integer('headers timeout (ms)', input.headersMs, DEFAULT_HTTP_TIMEOUTS.headersMs, 100, 600_000),
    requestMs: integer('request timeout (ms)', input.requestMs, DEFAULT_HTTP_TIMEOUTS.requestMs, 100, 600_000),
    keepAliveMs: integer('keep-alive timeout (ms)', input.keepAliveMs, DEFAULT_HTTP_TIMEOUTS.keepAliveMs, 100, 600_000),
  };
  if (timeouts.headersMs > timeouts.requestMs) throw new ConfigError('the headers timeout must not exceed the request timeout');
  return timeouts;
}

export function resolveStackOptions(options: StackOptions = {}): ResolvedStackOptions {
  const tokens = validateTokenMap(options.tokens ?? {}, 'tokens');
  const hasTokens = Object.keys(tokens).length > 0;
  const devToken = options.devToken ?? (hasTokens || options.oidc !== undefined ? null : generateDevToken());
  if (devToken !== null) {
    validateTokenMap({ [devToken]: DEV_USER_ID }, 'dev token');
    if (Object.hasOwn(tokens, devToken)) throw new ConfigError('the dev token must differ from every configured token');
  }
  const bucket = options.bucket ?? options.s3?.bucket ?? 'ehr-vault';
  if (!BUCKET_PATTERN.test(bucket)) throw new ConfigError(`invalid bucket name ${JSON.stringify(bucket)}`);
  const external = options.s3 === undefined ? undefined : resolveExternal(options.s3);

  return {
    host: '127.0.0.1',
    appPort: integer('app port', options.appPort, 8080, 0, 65_535),
    distDir: resolve(options.distDir ?? resolve(REPO_ROOT, 'dist')),
    bucket,
    external,
    localS3: {
      port: integer('S3 port', options.localS3?.port, 4568, 0, 65_535),
      dataDir: resolve(options.localS3?.dataDir ?? resolve(REPO_ROOT, '.data', 's3')),
      verbose: options.localS3?.verbose ?? false,
      extraHosts: (options.localS3?.extraHosts ?? []).map((host) => {
        if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) throw new ConfigError(`not a valid host: ${JSON.stringify(host)} (expected host[:port])`);
        return host.toLowerCase();
      }),
    },
    tokens,
    devToken,
    oidc: options.oidc === undefined ? null : resolveOidcOptions(options.oidc),
    presignExpiresSeconds: integer('presign expiry (seconds)', options.presignExpiresSeconds, 900, 1, MAX_PRESIGN_EXPIRY_SECONDS),
    appOrigins: (options.appOrigins ?? []).map(normalizeOrigin),
    rateLimit: {
      burst: integer('rate limit burst', options.rateLimit?.burst, 60, 1, 1_000_000),
      perSecond: positive('rate limit per second', options.rateLimit?.perSecond, 2),
    },
    authFailureLimit: {
      burst: integer('auth failure burst', options.authFailureLimit?.burst, 20, 1, 1_000_000),
      perSecond: positive('auth failures per second', options.authFailureLimit?.perSecond, 0.2),
    },
    sharedRateLimit: {
      burst: integer('shared rate limit burst', options.sharedRateLimit?.burst, 30, 1, 1_000_000),
      perSecond: positive('shared rate limit per second', options.sharedRateLimit?.perSecond, 1),
    },
    storageIdKey: options.storageIdKey,
    maxBodyBytes: integer('max body bytes', options.maxBodyBytes, 64 * 1024, 1024, 16 * 1024 * 1024),
    maxObjectsPerRequest: integer('max objects per request', options.maxObjectsPerRequest, 256, 1, 1000),
    maxObjectBytes: integer('max object bytes', options.maxObjectBytes, 64 * 1024 * 1024, 1, 5 * 1024 * 1024 * 1024),
    httpTimeouts: resolveHttpTimeouts(options.httpTimeouts),
    log: options.log ?? (() => {}),
  };
}
