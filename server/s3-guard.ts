import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * The front of the embedded S3. s3rver checks a SigV4 signature only when one is present and answers
 * any Host, so it is never reachable directly (it listens on a private Unix socket); this guard listens
 * on loopback and passes a request on only if:
 *
 * - its Host is one of the store's own addresses (DNS rebinding);
 * - it is GET, HEAD, PUT or DELETE of one object in the bucket (no LIST, no bucket operations, no POST:
 *   a cross-site form can only POST), or an OPTIONS CORS preflight (which changes nothing);
 * - it carries a complete SigV4 *query* signature (a presigned URL) made with this store's own access
 *   key, not expired; s3rver then verifies the signature itself (a wrong one is SignatureDoesNotMatch);
 * - a PUT has a Content-Length within the object limit, signs `content-length` and
 *   `x-amz-checksum-sha256`, and its body has exactly that SHA-256 (s3rver does not hash bodies, so the
 *   guard does, before the store sees a byte).
 *
 * Every answer gets `nosniff` and a sandboxing CSP, so nothing the store returns runs as a page.
 */
export interface S3GuardPolicy {
  bucket: string;
  /** Host header values the store answers to, lower case (e.g. 127.0.0.1:4568). */
  allowedHosts: ReadonlySet<string>;
  /** The access key id presigned URLs must be made with. */
  accessKeyId: string;
  maxObjectBytes: number;
  /** Upload bytes held in memory at once (bodies are hashed before the store sees them); more waits (503 SlowDown). */
  maxBufferedBytes?: number;
  now?: () => number;
}

/** A refusal, reported S3-style as `<Error><Code>…</Code><Message>…</Message></Error>`. */
export class S3GuardError extends Error {
  override readonly name = 'S3GuardError';
  constructor(
    readonly status: number,
    /** Stable S3-style code (AccessDenied, MethodNotAllowed, BadDigest, …). */
    readonly code: string,
    message: string,
    /** What to do about it. */
    readonly hint: string,
  ) {
    super(message);
  }
}

const OBJECT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const CHECKSUM_HEADER = 'x-amz-checksum-sha256';
const SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;
const REQUIRED_QUERY = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
} as const;

function denied(message: string, hint = 'Use a presigned URL from the presign service, unchanged.'): S3GuardError {
  return new S3GuardError(403, 'AccessDenied', message, hint);
}

/** Parses X-Amz-Date (yyyyMMdd'T'HHmmss'Z') to epoch ms, or NaN. */
function amzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? undefined : value;
}

export interface CheckedRequest {
  /** For a PUT: the exact body length and the SHA-256 (base64) the body must have. */
  upload?: { size: number; sha256: string };
}

/**
 * Decides whether a request may reach the store (before reading its body). Throws S3GuardError.
 * Exported for unit tests; the signature itself is verified by s3rver.
 */
export function checkS3Request(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, policy: S3GuardPolicy): CheckedRequest {
  const host = (single(req.headers, 'host') ?? '').toLowerCase();
  if (!policy.allowedHosts.has(host)) {
    throw denied(`The store does not answer to host ${JSON.stringify(host)}.`, 'Use the store address the presign service signs for.');
  }
  const method = req.method ?? '';
  const url = new URL(req.url ?? '/', 'http://store.invalid');
  if (method === 'OPTIONS') {
    if (req.headers.origin === undefined || req.headers['access-control-request-method'] === undefined) {
      throw new S3GuardError(405, 'MethodNotAllowed', 'OPTIONS is only answered as a CORS preflight.', 'Browsers send preflights by themselves; do not send OPTIONS otherwise.');
    }
    return {};
  }
  if (!OBJECT_METHODS.has(method)) {
    throw new S3GuardError(405, 'MethodNotAllowed', `The store does not accept ${method} requests.`, 'Only GET, HEAD, PUT and DELETE of single objects through presigned URLs are accepted.');
  }
  const prefix = `/${policy.bucket}/`;
  if (!url.pathname.startsWith(prefix) || url.pathname.length === prefix.length) {
    throw denied('Only single objects of the bucket can be reached (no listing, no bucket operations).');
  }
  if (req.headers.authorization !== undefined || url.searchParams.has('Signature') || url.searchParams.has('AWSAccessKeyId')) {
    throw denied('Only presigned URLs (SigV4 query signatures) are accepted.');
  }
  const query = new Map<string, string>();
  for (const name of REQUIRED_QUERY) {
    const values = url.searchParams.getAll(name);
    if (values.length !== 1 || values[0] === '') throw denied(values.length === 0 ? `The request is not signed (no ${name}).` : `${name} must appear exactly once.`);
    query.set(name, values[0]!);
  }
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !/^[0-9a-f]{64}$/.test(query.get('X-Amz-Signature')!)) {
    throw denied('The request does not carry a SigV4 signature.');
  }
  if (query.get('X-Amz-Credential')!.split('/')[0] !== policy.accessKeyId) {
    throw denied('The URL was not signed for this store.');
  }
  const signedAt = amzDate(query.get('X-Amz-Date')!);
  const expires = Number(query.get('X-Amz-Expires'));
  const now = (policy.now ?? Date.now)();
  if (!Number.isFinite(signedAt) || !Number.isInteger(expires) || expires < 1 || expires > 604_800) throw denied('The signature dates are malformed.');
  if (now >= signedAt + expires * 1000) throw denied('Request has expired: the presigned URL is past its expiry.', 'Ask the presign service for a fresh URL.');
  if (signedAt > now + 15 * 60_000) throw denied('The presigned URL is dated in the future.', 'Check the clocks of the presign service and this machine.');
  const signedHeaders = query.get('X-Amz-SignedHeaders')!.split(';');
  if (!signedHeaders.includes('host')) throw denied('The signature does not cover the host.');
  for (const key of url.searchParams.keys()) {
    if (key.toLowerCase().startsWith('x-amz-checksum')) throw denied('Checksums are only accepted as a signed header.');
  }

  const length = single(req.headers, 'content-length');
  if (method !== 'PUT') {
    if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
      throw new S3GuardError(400, 'InvalidRequest', `A ${method} request has no body.`, 'Send the request without a body.');
    }
    return {};
  }
  if (req.headers['transfer-encoding'] !== undefined || length === undefined || !/^\d{1,16}$/.test(length)) {
    throw new S3GuardError(411, 'MissingContentLength', 'An upload must state its Content-Length.', 'Send the body with a Content-Length header (browsers do this for a Blob).');
  }
  const size = Number(length);
  if (size > policy.maxObjectBytes) {
    throw new S3GuardError(400, 'EntityTooLarge', `An upload of ${size} bytes is over the limit of ${policy.maxObjectBytes}.`, 'Split the data into smaller objects.');
  }
  if (!signedHeaders.includes('content-length') || !signedHeaders.includes(CHECKSUM_HEADER)) {
    throw denied('An upload URL must sign the size and the SHA-256 of the bytes.', 'Presign uploads with "size" and "sha256".');
  }
  const sha256 = single(req.headers, CHECKSUM_HEADER);
  if (sha256 === undefined || !SHA256_BASE64.test(sha256)) {
    throw new S3GuardError(400, 'InvalidDigest', 'The x-amz-checksum-sha256 header is missing or malformed.', 'Send the headers the presign service returned with the URL.');
  }
  return { upload: { size, sha256 } };
}

function xmlEscape(value: string): string {
  return value.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sendGuardError(res: ServerResponse, error: S3GuardError, head: boolean): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message><Hint>${xmlEscape(error.hint)}</Hint></Error>`;
  res.writeHead(error.status, {
    ...SECURITY_HEADERS,
    ...(error.status === 503 ? { 'retry-after': '1' } : {}),
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(head ? undefined : body);
}

/** Reads exactly `size` bytes of body (Node stops at Content-Length). */
function readBody(req: IncomingMessage, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > size) {
        req.destroy();
        reject(new S3GuardError(400, 'IncompleteBody', 'The body is longer than its Content-Length.', 'Send exactly the bytes that were presigned.'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (received === size ? resolve(Buffer.concat(chunks, size)) : reject(new S3GuardError(400, 'IncompleteBody', 'The body is shorter than its Content-Length.', 'Send exactly the bytes that were presigned.'))));
    req.on('error', reject);
    req.on('aborted', () => reject(new S3GuardError(400, 'IncompleteBody', 'The upload was interrupted.', 'Retry the upload.')));
  });
}

/**
 * The guard's request handler: checks, then forwards to s3rver on `upstreamSocket` (a Unix socket
 * path). PUT bodies are read whole and hashed first, so the store never receives bytes other than
 * the signed ones.
 */
export function createS3Guard(policy: S3GuardPolicy, upstreamSocket: string, log: (line: string) => void = () => {}) {
  const maxBuffered = policy.maxBufferedBytes ?? Math.max(256 * 1024 * 1024, 2 * policy.maxObjectBytes);
  let buffered = 0;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let reserved = 0;
    try {
      let body: Buffer | undefined;
      try {
        const checked = checkS3Request(req, policy);
        if (checked.upload !== undefined) {
          if (buffered > 0 && buffered + checked.upload.size > maxBuffered) {
            throw new S3GuardError(503, 'SlowDown', 'Too many uploads at once.', 'Retry in a moment (clients retry 503 by themselves).');
          }
          // Held until the store has the bytes.
          reserved = checked.upload.size;
          buffered += reserved;
          body = await readBody(req, checked.upload.size);
          if (createHash('sha256').update(body).digest('base64') !== checked.upload.sha256) {
            throw new S3GuardError(400, 'BadDigest', 'The SHA-256 of the bytes does not match the signed x-amz-checksum-sha256.', 'Upload exactly the bytes that were presigned.');
          }
        }
      } catch (error) {
        if (error instanceof S3GuardError) {
          sendGuardError(res, error, req.method === 'HEAD');
          if (!req.complete) req.resume();
          return;
        }
        throw error;
      }
      await forward(req, res, body);
    } finally {
      buffered -= reserved;
    }
  };

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const upstream = httpRequest({ socketPath: upstreamSocket, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...SECURITY_HEADERS });
        answer.pipe(res);
        answer.on('end', resolve);
        answer.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      upstream.on('error', (error) => {
        log(`[s3-guard] upstream failed: ${error.message}`);
        if (!res.headersSent) sendGuardError(res, new S3GuardError(502, 'InternalError', 'The store did not answer.', 'Retry later.'), req.method === 'HEAD');
        else res.destroy();
        resolve();
      });
      upstream.end(body);
    });
  }
}
