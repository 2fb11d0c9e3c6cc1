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
import type { StorageIds } from './storage-ids.js';
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
  /** Opaque storage ids for share links (issue #13). */
  storageIds: StorageIds;
  /** Requests to the anonymous, read-only shared presign endpoint, per client address. */
  sharedLimiter: TokenBucketLimiter;
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

  async function signedIn(req: IncomingMessage) {
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
    return identity;
  }

  async function presign(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const identity = await signedIn(req);
    const decision = deps.limiter.take(identity.tokenId);
    if (!decision.allowed) {
      throw new ApiError(429, 'RATE_LIMITED', 'Too many presign requests for this token.',
        `Wait ${decision.retryAfterSeconds} s (see Retry-After) and batch more objects per request.`,
        { 'retry-after': String(decision.retryAfterSeconds) });
    }
    const body = await readJsonBody(req, deps.maxBodyBytes);
    const { storageId, rest } = takeStorageId(body);
    const request = deps.parseRequest(rest);
    await sendUrls(res, ownerFor(identity.userId, storageId, request.operation), request);
  }

  /**
   * A request may name the storage it is about (`storageId`, as in a share link). Reads of another
   * storage are what a share link already allows anyone; writes and deletes there are refused outright
   * (issue #13): a recipient who signs in must get a 403, not URLs quietly signed in their own prefix
   * that look as if they had worked (docs/SECURITY.md §11).
   */
  function ownerFor(userId: string, storageId: string | undefined, operation: PresignRequest['operation']): string {
    if (storageId === undefined) return userId;
    const owner = deps.storageIds.userFor(storageId);
    if (owner === undefined) {
      throw new ApiError(404, 'STORAGE_NOT_FOUND', 'storageId: this service did not issue that storage id.', 'Leave "storageId" out to use your own storage, or copy it whole from GET /api/storage-id or the share link.');
    }
    if (owner !== userId && (operation === 'put' || operation === 'delete')) {
      throw new ApiError(403, 'NOT_YOUR_STORAGE', `"${operation}" is only allowed in your own storage; storageId names someone else's.`,
        'A shared record can only be read. Its owner changes or withdraws it from their own app.');
    }
    return owner;
  }

  async function sendUrls(res: ServerResponse, userId: string, request: PresignRequest): Promise<void> {
    const signingDate = new Date(Math.floor(now() / 1000) * 1000);
    const timing = { expiresInSeconds: deps.publicConfig.expiresInSeconds, signingDate };
    const urls = await Promise.all(request.objects.map(async (object) => {
      const signed = await deps.presigner.presign(request.operation, objectKey(userId, object.name), object, timing);
      return { name: object.name, ...signed };
    }));
    const expiresAt = new Date(signingDate.getTime() + timing.expiresInSeconds * 1000).toISOString();
    sendJson(res, 200, { expiresAt, urls });
  }

  function takeStorageId(body: unknown): { storageId: string | undefined; rest: unknown } {
    if (typeof body !== 'object' || body === null || Array.isArray(body) || !('storageId' in body)) return { storageId: undefined, rest: body };
    const { storageId, ...rest } = body as { storageId: unknown };
    if (typeof storageId !== 'string') {
      throw new ApiError(400, 'INVALID_STORAGE', 'storageId: must be a storage id string', 'Send the id from GET /api/storage-id or from a share link, or leave "storageId" out.');
    }
    return { storageId, rest };
  }

  /** The caller's own storage id, for the share links it makes. */
  async function storageId(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const identity = await signedIn(req);
    sendJson(res, 200, { storageId: deps.storageIds.idFor(identity.userId) });
  }

  /**
   * Anyone holding a share link may read that record's objects, and nothing else: GET/HEAD only, of names
   * they must already know (derived from the record key), in the storage the link names. No token, no LIST,
   * no PUT, no DELETE; requests are limited per client address.
   */
  async function sharedPresign(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const address = req.socket.remoteAddress ?? 'unknown';
    const decision = deps.sharedLimiter.take(address);
    if (!decision.allowed) {
      throw new ApiError(429, 'RATE_LIMITED', 'Too many shared-record requests from this address.',
        `Wait ${decision.retryAfterSeconds} s (see Retry-After) and try again.`, { 'retry-after': String(decision.retryAfterSeconds) });
    }
    const body = await readJsonBody(req, deps.maxBodyBytes);
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { storage?: unknown }).storage !== 'string') {
      throw new ApiError(400, 'INVALID_STORAGE', 'body.storage: must be the storage id from the share link', 'Send {"storage": "<id from the link>", "operation": "get"|"head", "objects": [{"name": "..."}]}.');
    }
    const { storage, ...rest } = body as { storage: string };
    const request = deps.parseRequest(rest);
    if (request.operation !== 'get' && request.operation !== 'head') {
      throw new ApiError(403, 'READ_ONLY', 'A shared record can only be read.', 'Only "get" and "head" are allowed without signing in; the owner changes or withdraws a record from their own app.');
    }
    const userId = deps.storageIds.userFor(storage);
    if (userId === undefined) {
      throw new ApiError(404, 'STORAGE_NOT_FOUND', 'This share link names a storage this service does not know.', 'Check that the link was copied whole, or ask the sender for a new link.');
    }
    await sendUrls(res, userId, request);
  }

  const routes: Record<string, { method: 'GET' | 'POST'; handle: Route }> = {
    '/api/health': { method: 'GET', handle: (_req, res) => sendJson(res, 200, { status: 'ok', storage: deps.publicConfig.storage }) },
    '/api/config': { method: 'GET', handle: (_req, res) => sendJson(res, 200, deps.publicConfig) },
    '/api/presign': { method: 'POST', handle: presign },
    '/api/storage-id': { method: 'GET', handle: storageId },
    '/api/shared/presign': { method: 'POST', handle: sharedPresign },
  };

  return async (req, res) => {
    try {
      checkHost(req, deps.originPolicy);
      if (handleCors(req, res, deps.originPolicy)) return;
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = routes[path];
      if (route === undefined) {
        throw new ApiError(404, 'NOT_FOUND', `No API endpoint at ${path}.`, 'Endpoints: GET /api/health, GET /api/config, POST /api/presign, GET /api/storage-id, POST /api/shared/presign.');
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
