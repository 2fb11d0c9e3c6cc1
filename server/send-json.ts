import type { ServerResponse } from 'node:http';
import { ApiError, toErrorBody } from './api-error.js';

const API_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...API_HEADERS,
    ...headers,
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

export function sendApiError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.status, toErrorBody(error), error.headers);
}

/** Anything that is not an ApiError becomes an opaque 500 (details go to the server log only). */
export function internalError(): ApiError {
  return new ApiError(
    500,
    'INTERNAL_ERROR',
    'The presign service failed unexpectedly.',
    'Retry later; if it persists, check the server log.',
  );
}
