import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';

export interface OriginPolicy {
  /** Exact origins (scheme://host[:port]) allowed to call the API from a browser. */
  allowedOrigins: ReadonlySet<string>;
  /** Host header values the API answers to (defeats DNS rebinding against the local server). */
  allowedHosts: ReadonlySet<string>;
}

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type';
const VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

export function originPolicy(origins: readonly string[]): OriginPolicy {
  return {
    allowedOrigins: new Set(origins),
    allowedHosts: new Set(origins.map((origin) => new URL(origin).host)),
  };
}

export function checkHost(req: IncomingMessage, policy: OriginPolicy): void {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!policy.allowedHosts.has(host)) {
    throw new ApiError(403, 'HOST_NOT_ALLOWED', `The API does not answer to host ${JSON.stringify(host)}.`,
      'Open the app at its configured address, or add that origin to APP_ORIGIN.');
  }
}

/**
 * Applies the CORS policy. Returns true when the request was a preflight and has been answered.
 * Requests carrying a foreign Origin are refused outright; requests without Origin (same-origin
 * GETs, curl) pass.
 */
export function handleCors(req: IncomingMessage, res: ServerResponse, policy: OriginPolicy): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && !policy.allowedOrigins.has(origin)) {
    throw new ApiError(403, 'ORIGIN_NOT_ALLOWED', `Requests from origin ${JSON.stringify(origin)} are not allowed.`,
      'Add the origin the app is served from to APP_ORIGIN (comma-separated) and restart the server.');
  }
  if (origin !== undefined) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', 'Retry-After');
    res.setHeader('vary', VARY);
  }
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(204, {
    allow: ALLOWED_METHODS,
    ...(req.headers['access-control-request-method'] !== undefined
      ? {
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        }
      : {}),
  });
  res.end();
  return true;
}
