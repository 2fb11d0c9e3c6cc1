import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import type { StackOptions } from './stack-options.js';
import { parseTokenMapJson, readTokenMapFile } from './token-store.js';

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function number(env: Env, name: string): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new ConfigError(`${name} must be a number, got ${JSON.stringify(value)}`);
  return parsed;
}

function boolean(env: Env, name: string): boolean | undefined {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function wrap<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Reads the stack configuration from environment variables (see server/README.md). */
export function stackOptionsFromEnv(env: Env = process.env, cwd: string = process.cwd()): StackOptions {
  const options: StackOptions = {};
  const set = <K extends keyof StackOptions>(key: K, value: StackOptions[K] | undefined): void => {
    if (value !== undefined) options[key] = value;
  };

  set('appPort', number(env, 'APP_PORT') ?? number(env, 'PORT'));
  const dist = text(env, 'APP_DIST_DIR');
  set('distDir', dist === undefined ? undefined : resolve(cwd, dist));
  set('bucket', text(env, 'S3_BUCKET'));
  set('presignExpiresSeconds', number(env, 'PRESIGN_EXPIRES_SECONDS'));
  set('appOrigins', text(env, 'APP_ORIGIN')?.split(',').map((origin) => origin.trim()).filter((origin) => origin !== ''));
  if (boolean(env, 'S3_CHECKSUM_SHA256') === false) {
    throw new ConfigError('S3_CHECKSUM_SHA256=false is no longer supported: every upload URL binds the SHA-256 of its bytes (use a store that verifies x-amz-checksum-sha256)');
  }
  set('maxBodyBytes', number(env, 'MAX_BODY_BYTES'));
  set('maxObjectsPerRequest', number(env, 'MAX_OBJECTS_PER_REQUEST'));
  set('maxObjectBytes', number(env, 'MAX_OBJECT_BYTES'));

  const burst = number(env, 'RATE_LIMIT_BURST');
  const perSecond = number(env, 'RATE_LIMIT_PER_SECOND');
  if (burst !== undefined || perSecond !== undefined) options.rateLimit = { burst: burst ?? 60, perSecond: perSecond ?? 2 };
  const failureBurst = number(env, 'AUTH_FAILURE_BURST');
  const failurePerSecond = number(env, 'AUTH_FAILURES_PER_SECOND');
  if (failureBurst !== undefined || failurePerSecond !== undefined) options.authFailureLimit = { burst: failureBurst ?? 20, perSecond: failurePerSecond ?? 0.2 };

  const sharedBurst = number(env, 'SHARED_RATE_LIMIT_BURST');
  const sharedPerSecond = number(env, 'SHARED_RATE_LIMIT_PER_SECOND');
  if (sharedBurst !== undefined || sharedPerSecond !== undefined) options.sharedRateLimit = { burst: sharedBurst ?? 30, perSecond: sharedPerSecond ?? 1 };
  set('storageIdKey', text(env, 'EHRV_STORAGE_ID_KEY'));

  const inline = text(env, 'EHRV_TOKENS');
  const file = text(env, 'EHRV_TOKENS_FILE');
  if (inline !== undefined && file !== undefined) throw new ConfigError('set EHRV_TOKENS or EHRV_TOKENS_FILE, not both');
  if (inline !== undefined) set('tokens', parseTokenMapJson(inline, 'EHRV_TOKENS'));
  if (file !== undefined) set('tokens', wrap('EHRV_TOKENS_FILE', () => readTokenMapFile(resolve(cwd, file))));
  set('devToken', text(env, 'EHRV_DEV_TOKEN'));

  const issuer = text(env, 'OIDC_ISSUER');
  if (issuer !== undefined) {
    const audience = text(env, 'OIDC_AUDIENCE');
    if (audience === undefined) throw new ConfigError('OIDC_AUDIENCE is required with OIDC_ISSUER');
    const oidc: NonNullable<StackOptions['oidc']> = { issuer, audience: audience.split(',').map((a) => a.trim()).filter((a) => a !== '') };
    const userClaim = text(env, 'OIDC_USER_CLAIM');
    const algorithms = text(env, 'OIDC_ALGORITHMS');
    const tolerance = number(env, 'OIDC_CLOCK_TOLERANCE_SECONDS');
    const jwksUri = text(env, 'OIDC_JWKS_URI');
    const clientId = text(env, 'OIDC_CLIENT_ID');
    const scopes = text(env, 'OIDC_SCOPES');
    const resource = text(env, 'OIDC_RESOURCE');
    if (userClaim !== undefined) oidc.userClaim = userClaim;
    if (algorithms !== undefined) oidc.algorithms = algorithms.split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (tolerance !== undefined) oidc.clockToleranceSeconds = tolerance;
    if (jwksUri !== undefined) oidc.jwksUri = jwksUri;
    if (clientId !== undefined) oidc.clientId = clientId;
    if (scopes !== undefined) oidc.scopes = scopes;
    if (resource !== undefined) oidc.resource = resource;
    options.oidc = oidc;
  }

  const endpoint = text(env, 'S3_ENDPOINT');
  if (endpoint !== undefined) {
    const s3: NonNullable<StackOptions['s3']> = { endpoint };
    const region = text(env, 'S3_REGION');
    const forcePathStyle = boolean(env, 'S3_FORCE_PATH_STYLE');
    const accessKeyId = text(env, 'S3_ACCESS_KEY_ID');
    const secretAccessKey = text(env, 'S3_SECRET_ACCESS_KEY');
    const sessionToken = text(env, 'S3_SESSION_TOKEN');
    if (region !== undefined) s3.region = region;
    if (forcePathStyle !== undefined) s3.forcePathStyle = forcePathStyle;
    if (accessKeyId !== undefined) s3.accessKeyId = accessKeyId;
    if (secretAccessKey !== undefined) s3.secretAccessKey = secretAccessKey;
    if (sessionToken !== undefined) s3.sessionToken = sessionToken;
    options.s3 = s3;
  }

  const s3Port = number(env, 'S3_PORT');
  const dataDir = text(env, 'S3_DATA_DIR');
  const verbose = boolean(env, 'S3_LOG');
  options.localS3 = {
    ...(s3Port !== undefined ? { port: s3Port } : {}),
    ...(dataDir !== undefined ? { dataDir: resolve(cwd, dataDir) } : {}),
    ...(verbose !== undefined ? { verbose } : {}),
  };
  return options;
}
