import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { ApiError } from './api-error.js';
import { ConfigError } from './config-error.js';

/**
 * OpenID Connect access tokens (JWTs) for the presign service: verified with `jose` against the
 * issuer's JWKS (found through its discovery document), with the configured issuer, audience, allowed
 * algorithms and clock tolerance; a configured claim (default `sub`) names the user.
 */
export interface OidcOptions {
  /** The issuer, exactly as in its tokens' `iss` (e.g. https://login.example.org/realms/ehr). */
  issuer: string;
  /** The API's audience: the token's `aud` must contain one of these. */
  audience: string | string[];
  /** The claim that becomes the user id (default `sub`). */
  userClaim?: string;
  /** Allowed JWS algorithms (default RS256, PS256, ES256, EdDSA; never `none` or HMAC). */
  algorithms?: string[];
  /** Accepted clock skew for exp/nbf/iat (default 30 s). */
  clockToleranceSeconds?: number;
  /** Override of the JWKS URL (default: jwks_uri of the discovery document). */
  jwksUri?: string;
  /** The app's (public) client id, for its sign-in (served in /api/config). */
  clientId?: string;
  /** Scopes the app asks for (default "openid offline_access"). */
  scopes?: string;
  /** The resource indicator (RFC 8707) the app asks a token for, when the provider needs one. */
  resource?: string;
}

export interface ResolvedOidcOptions {
  issuer: string;
  audience: string[];
  userClaim: string;
  algorithms: string[];
  clockToleranceSeconds: number;
  jwksUri: string | undefined;
  clientId: string | null;
  scopes: string;
  resource: string | null;
}

export interface OidcIdentity {
  userId: string;
  /** Non-secret key for the rate limiter and logs. */
  tokenId: string;
}

export interface OidcVerifier {
  verify(token: string): Promise<OidcIdentity>;
  /** What the app needs to sign in (GET /api/config). */
  readonly publicConfig: { issuer: string; clientId: string | null; scopes: string; resource: string | null };
}

const SAFE_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
export const JWT_PATTERN = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

export function resolveOidcOptions(options: OidcOptions): ResolvedOidcOptions {
  let issuer: URL;
  try {
    issuer = new URL(options.issuer);
  } catch {
    throw new ConfigError(`OIDC issuer is not a URL: ${JSON.stringify(options.issuer)}`);
  }
  const local = issuer.hostname === '127.0.0.1' || issuer.hostname === 'localhost' || issuer.hostname === '[::1]';
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && local)) throw new ConfigError('OIDC issuer must be https:// (http:// only on this machine)');
  const audience = (Array.isArray(options.audience) ? options.audience : [options.audience]).filter((a) => a !== '');
  if (audience.length === 0) throw new ConfigError('OIDC audience is required (the API identifier the tokens are issued for)');
  const algorithms = options.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'];
  for (const alg of algorithms) {
    if (!SAFE_ALGORITHMS.has(alg)) throw new ConfigError(`OIDC algorithm ${JSON.stringify(alg)} is not allowed (asymmetric algorithms only)`);
  }
  const clockToleranceSeconds = options.clockToleranceSeconds ?? 30;
  if (!Number.isInteger(clockToleranceSeconds) || clockToleranceSeconds < 0 || clockToleranceSeconds > 300) throw new ConfigError('OIDC clock tolerance must be 0-300 seconds');
  const userClaim = options.userClaim ?? 'sub';
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(userClaim)) throw new ConfigError(`OIDC user claim ${JSON.stringify(userClaim)} is not a claim name`);
  return {
    issuer: options.issuer,
    audience,
    userClaim,
    algorithms,
    clockToleranceSeconds,
    jwksUri: options.jwksUri,
    clientId: options.clientId ?? null,
    scopes: options.scopes ?? 'openid offline_access',
    resource: options.resource ?? null,
  };
}

/** Reads the issuer's discovery document; its `issuer` must be the configured one (OpenID Connect Discovery §4.3). */
async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as typeof document;
  } catch (error) {
    throw new ConfigError(`OIDC discovery failed at ${url}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (document.issuer !== issuer) throw new ConfigError(`OIDC discovery: the document names issuer ${JSON.stringify(document.issuer)}, not ${JSON.stringify(issuer)}`);
  if (typeof document.jwks_uri !== 'string') throw new ConfigError('OIDC discovery: no jwks_uri');
  return document.jwks_uri;
}

/**
 * The user id for a claim value: `oidc-` and 32 hex characters of SHA-256(issuer, value), so it fits
 * object keys whatever the provider's subject looks like, and never equals a static token's user.
 */
export function oidcUserId(issuer: string, value: string): string {
  return `oidc-${createHash('sha256').update(`${issuer}\0${value}`, 'utf8').digest('hex').slice(0, 32)}`;
}

function rejected(code: 'INVALID_TOKEN' | 'TOKEN_EXPIRED', message: string): ApiError {
  return new ApiError(401, code, message,
    code === 'TOKEN_EXPIRED' ? 'Sign in again (the app refreshes its token by itself while the session lasts).' : 'Sign in again; if it keeps failing, the app and the service may be configured for different providers or audiences.',
    { 'www-authenticate': `Bearer realm="ehr-vault", error="invalid_token", error_description="${code === 'TOKEN_EXPIRED' ? 'expired' : 'invalid'}"` });
}

export async function createOidcVerifier(options: ResolvedOidcOptions): Promise<OidcVerifier> {
  const jwksUri = options.jwksUri ?? (await discoverJwksUri(options.issuer));
  const jwks = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  return {
    publicConfig: { issuer: options.issuer, clientId: options.clientId, scopes: options.scopes, resource: options.resource },
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: options.algorithms,
          clockTolerance: options.clockToleranceSeconds,
          requiredClaims: ['exp', 'iat', options.userClaim],
        }));
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (code === 'ERR_JWT_EXPIRED') throw rejected('TOKEN_EXPIRED', 'The access token has expired.');
        if (code === 'ERR_JWKS_TIMEOUT' || (code === '' && error instanceof TypeError)) {
          throw new ApiError(503, 'AUTH_UNAVAILABLE', 'The identity provider\'s keys could not be fetched.', 'Retry in a moment.', { 'retry-after': '5' });
        }
        const claim = (error as { claim?: string }).claim;
        throw rejected('INVALID_TOKEN', claim !== undefined ? `The access token's "${claim}" claim is not accepted.` : 'The access token is not valid for this service.');
      }
      const value = payload[options.userClaim];
      if (typeof value !== 'string' || value === '' || value.length > 1024) throw rejected('INVALID_TOKEN', `The access token has no usable "${options.userClaim}" claim.`);
      const userId = oidcUserId(options.issuer, value);
      return { userId, tokenId: `oidc:${userId}` };
    },
  };
}
