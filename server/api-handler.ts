import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';
import { checkHost, handleCors, type OriginPolicy } from './api-cors.js';
import { authenticate } from './bearer-auth.js';
import type { OidcVerifier } from './oidc-auth.js';
import { objectKey } from './object-key.js';
import type { PresignRequest } from './presign-request.js';
import type { Presigner } from './s3-presigner.js';
import type { TokenBucketLimiter } from './rate-limiter.js';
import { readJsonBody } from './read-json-body.js';
import { internalError, sendApiError, sendJson } from './send-json.js';
import type { TokenStore } from './token-store.js';

/** Public, non-secret settings the browser app reads from GET /api/config. */
export interface PublicConfig {
  presignUrl: string;
  /** Only set when the server runs with its development token. */
  defaultToken: string | null;
  expiresInSeconds: number;
  maxObjectsPerRequest: number;
  maxObjectBytes: number;
  /** Whether PUT URLs bind a client-supplied SHA-256 that the store verifies. */
  checksumSha256: boolean;
  storage: 'embedded' | 'external';
  /** OpenID Connect sign-in for the app, when the service accepts OIDC access tokens. */
  oidc: { issuer: string; clientId: string | null; scopes: string; resource: string | null } | null;
}

export interface ApiDependencies {
  tokens: TokenStore;
  /** Verifies OpenID Connect access tokens (JWTs), when configured. */
  oidc?: OidcVerifier | undefined;
  limiter: TokenBucketLimiter;
  /** Failed token checks per client address (wrong or expired tokens): guessing is slowed down. */
  authFailures: TokenBucketLimiter;
  presigner: Presigner;
  parseRequest: (body: unknown) => PresignRequest;
  originPolicy: OriginPolicy;
  publicConfig: PublicConfig;
  maxBodyBytes: number;
  log: (line: string) => void;
  now?: () => number;
}

export const API_PREFIX = '/api/';

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

function methodNotAllowed(allowed: string): ApiError {
  return new ApiError(405, 'METHOD_NOT_ALLOWED', `Use ${allowed} on this endpoint.`, `Send the request with method ${allowed}.`, { allow: `${allowed}, OPTIONS` });
}

export function createApiHandler(deps: ApiDependencies): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const now = deps.now ?? Date.now;

  async function presign(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Per address, not per token: a guesser changes the token every time. Checked before the token is,
    // so a throttled address learns nothing about its guesses (even a right one gets 429).
    const address = req.socket.remoteAddress ?? 'unknown';
    const throttled = deps.authFailures.peek(address);
    if (!throttled.allowed) {
      throw new ApiError(429, 'AUTH_THROTTLED', 'Too many requests with a wrong or expired token from this address.',
        `Wait ${throttled.retryAfterSeconds} s (see Retry-After), then sign in again or check the token.`,
        { 'retry-after': String(throttled.retryAfterSeconds) });
    }
    let identity;
    try {
      identity = await authenticate(req, deps.tokens, deps.oidc);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'INVALID_TOKEN') deps.authFailures.take(address);
      throw error;
    }
    const decision = deps.limiter.take(identity.tokenId);
    if (!decision.allowed) {
      throw new ApiError(429, 'RATE_LIMITED', 'Too many presign requests for this token.',
        `Wait ${decision.retryAfterSeconds} s (see Retry-After) and batch more objects per request.`,
        { 'retry-after': String(decision.retryAfterSeconds) });
    }
    const request = deps.parseRequest(await readJsonBody(req, deps.maxBodyBytes));
    const signingDate = new Date(Math.floor(now() / 1000) * 1000);
    const timing = { expiresInSeconds: deps.publicConfig.expiresInSeconds, signingDate };
    const urls = await Promise.all(request.objects.map(async (object) => {
      const signed = await deps.presigner.presign(request.operation, objectKey(identity.userId, object.name), object, timing);
      return { name: object.name, ...signed };
    }));
    const expiresAt = new Date(signingDate.getTime() + timing.expiresInSeconds * 1000).toISOString();
    sendJson(res, 200, { expiresAt, urls });
  }

  const routes: Record<string, { method: 'GET' | 'POST'; handle: Route }> = {
    '/api/health': { method: 'GET', handle: (_req, res) => sendJson(res, 200, { status: 'ok', storage: deps.publicConfig.storage }) },
    '/api/config': { method: 'GET', handle: (_req, res) => sendJson(res, 200, deps.publicConfig) },
    '/api/presign': { method: 'POST', handle: presign },
  };

  return async (req, res) => {
    try {
      checkHost(req, deps.originPolicy);
      if (handleCors(req, res, deps.originPolicy)) return;
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = routes[path];
      if (route === undefined) {
        throw new ApiError(404, 'NOT_FOUND', `No API endpoint at ${path}.`, 'Endpoints: GET /api/health, GET /api/config, POST /api/presign.');
      }
      const allowed = route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
      if (!allowed.includes(req.method ?? '')) throw methodNotAllowed(route.method);
      await route.handle(req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof ApiError) {
        sendApiError(res, error);
        return;
      }
      deps.log(`[api] ${req.method ?? '?'} ${req.url ?? '?'} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendApiError(res, internalError());
    }
  };
}
