import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';

function tooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    'BODY_TOO_LARGE',
    `The request body exceeds ${limit} bytes.`,
    'Split the objects into several smaller requests.',
    { connection: 'close' },
  );
}

function requireJsonContentType(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `Expected Content-Type application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}.`,
      'Send the body as JSON with the header "Content-Type: application/json".',
    );
  }
}

/**
 * Collects the body without destroying the socket on overflow (so the 413 can still be sent):
 * once past the limit the data is discarded while the stream keeps draining.
 */
function collect(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > limit) fail(tooLarge(limit));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('error', fail);
    req.on('close', () => {
      if (!req.complete) fail(new Error('request aborted by the client'));
    });
  });
}

/**
 * Reads at most `limit` bytes and parses them as JSON. An over-long body is rejected as soon as
 * it is detected (from Content-Length, or while streaming); the rest is drained by Node.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  requireJsonContentType(req);
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);

  const body = await collect(req, limit);
  const text = body.toString('utf8');
  if (text.trim() === '') {
    throw new ApiError(400, 'EMPTY_BODY', 'The request body is empty.', 'Send a JSON object such as {"operation":"get","objects":[{"name":"..."}]}.');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : 'unparseable';
    throw new ApiError(400, 'MALFORMED_JSON', `The request body is not valid JSON (${detail}).`, 'Send a well-formed JSON object.');
  }
}
