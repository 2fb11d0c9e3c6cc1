import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { errorCode, fragmentName, makeTempDir, presignOne, presignRaw, putFields, send, type ErrorResponse } from './helpers.js';

const TOKEN = 'validation-token-0123456789';
const OTHER = 'validation-other-0123456789';
const APP_ORIGIN = 'http://127.0.0.1:5173';

function post(stack: Stack, body: unknown, token = TOKEN): Promise<Response> {
  return presignRaw(stack.appUrl, { token, body: JSON.stringify(body) });
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorResponse> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorResponse;
  expect(body.error.code).toBe(code);
  expect(body.error.message).toBeTruthy();
  expect(body.error.hint).toBeTruthy();
  expect(Object.keys(body.error).sort()).toEqual(['code', 'hint', 'message']);
  return body;
}

describe('presign API input handling', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('validation');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [TOKEN]: 'carol', [OTHER]: 'dave' },
      appOrigins: [APP_ORIGIN],
      rateLimit: { burst: 10_000, perSecond: 1_000 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('refuses a missing token with 401 MISSING_TOKEN', async () => {
    const response = await presignRaw(stack.appUrl, { body: JSON.stringify({ operation: 'get', objects: [{ name: fragmentName() }] }) });
    await expectError(response, 401, 'MISSING_TOKEN');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses an unknown or malformed token with 401', async () => {
    await expectError(await post(stack, { operation: 'get', objects: [{ name: fragmentName() }] }, 'not-a-known-token-000000'), 401, 'INVALID_TOKEN');
    const basic = await presignRaw(stack.appUrl, { headers: { authorization: 'Basic dXNlcjpwYXNz' }, body: '{}' });
    await expectError(basic, 401, 'MISSING_TOKEN');
  });

  it.each([
    ['path traversal', '../x'],
    ['traversal that is long enough', '../../users/dave/fragments/aaaaaaaaaaaaaaaa'],
    ['a key with slashes', 'users/dave/fragments/0123456789abcdef'],
    ['uppercase', '0123456789ABCDEF0123'],
    ['too long (65)', 'a'.repeat(65)],
    ['too short (15)', 'a'.repeat(15)],
    ['empty', ''],
    ['unicode', 'ａaaaaaaaaaaaaaaaaaa'],
  ])('rejects a bad object name (%s) with 400 INVALID_OBJECT_NAME', async (_label, name) => {
    const body = await expectError(await post(stack, { operation: 'put', objects: [{ name: fragmentName(), ...putFields() }, { name, ...putFields() }] }), 400, 'INVALID_OBJECT_NAME');
    expect(body.error.message).toContain('objects[1].name');
  });

  it('rejects a name that is not a string', async () => {
    await expectError(await post(stack, { operation: 'get', objects: [{ name: 1234567890123456 }] }), 400, 'INVALID_OBJECT_NAME');
  });

  it('accepts names at the length limits', async () => {
    const response = await post(stack, { operation: 'head', objects: [{ name: 'a'.repeat(16) }, { name: 'z9'.repeat(32) }] });
    expect(response.status).toBe(200);
  });

  it('rejects more than 256 objects with 400 TOO_MANY_OBJECTS', async () => {
    const objects = Array.from({ length: 257 }, () => ({ name: fragmentName() }));
    await expectError(await post(stack, { operation: 'get', objects }), 400, 'TOO_MANY_OBJECTS');
  });

  it('rejects an empty batch and duplicate names', async () => {
    await expectError(await post(stack, { operation: 'get', objects: [] }), 400, 'INVALID_OBJECTS');
    const name = fragmentName();
    await expectError(await post(stack, { operation: 'get', objects: [{ name }, { name }] }), 400, 'DUPLICATE_OBJECT_NAME');
  });

  it('rejects malformed JSON with 400 MALFORMED_JSON', async () => {
    await expectError(await presignRaw(stack.appUrl, { token: TOKEN, body: '{"operation": "get", "objects": [' }), 400, 'MALFORMED_JSON');
    await expectError(await presignRaw(stack.appUrl, { token: TOKEN, body: '' }), 400, 'EMPTY_BODY');
  });

  it('rejects unknown fields at every level with 400 UNKNOWN_FIELD', async () => {
    const name = fragmentName();
    await expectError(await post(stack, { operation: 'get', objects: [{ name }], bucket: 'other' }), 400, 'UNKNOWN_FIELD');
    const nested = await expectError(await post(stack, { operation: 'get', objects: [{ name, key: 'users/dave/x' }] }), 400, 'UNKNOWN_FIELD');
    expect(nested.error.message).toContain('"key"');
  });

  it('rejects a bad operation, body shape, sha256, size and put-only fields', async () => {
    const name = fragmentName();
    await expectError(await post(stack, { operation: 'list', objects: [{ name }] }), 400, 'INVALID_OPERATION');
    await expectError(await post(stack, [{ operation: 'get' }]), 400, 'INVALID_REQUEST');
    await expectError(await post(stack, { operation: 'get', objects: 'x' }), 400, 'INVALID_OBJECTS');
    await expectError(await post(stack, { operation: 'get' }), 400, 'INVALID_OBJECTS');
    await expectError(await post(stack, { operation: 'put', objects: [{ name, sha256: 'abc', size: 0 }] }), 400, 'INVALID_SHA256');
    await expectError(await post(stack, { operation: 'put', objects: [{ name, sha256: putFields().sha256, size: -1 }] }), 400, 'INVALID_SIZE');
    await expectError(await post(stack, { operation: 'put', objects: [{ name, sha256: putFields().sha256, size: 1.5 }] }), 400, 'INVALID_SIZE');
    await expectError(await post(stack, { operation: 'put', objects: [{ name, sha256: putFields().sha256, size: 64 * 1024 * 1024 + 1 }] }), 400, 'INVALID_SIZE');
    await expectError(await post(stack, { operation: 'get', objects: [{ name, size: 10 }] }), 400, 'FIELD_NOT_ALLOWED');
  });

  it('requires a JSON content type (415)', async () => {
    const response = await presignRaw(stack.appUrl, {
      token: TOKEN,
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ operation: 'get', objects: [{ name: fragmentName() }] }),
    });
    await expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('rejects a body over 64 KiB with 413 BODY_TOO_LARGE', async () => {
    const padding = 'x'.repeat(70 * 1024);
    await expectError(await presignRaw(stack.appUrl, { token: TOKEN, body: `{"operation":"get","objects":[],"pad":"${padding}"}` }), 413, 'BODY_TOO_LARGE');
  });

  it('rejects an oversize body sent without Content-Length (chunked) with 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 5) controller.close();
        else {
          controller.enqueue(chunk);
          sent += 1;
        }
      },
    });
    const response = await fetch(`${stack.appUrl}/api/presign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await errorCode(response)).toBe('BODY_TOO_LARGE');
    expect(response.status).toBe(413);
  });

  it('answers unknown endpoints and wrong methods with JSON errors', async () => {
    await expectError(await fetch(`${stack.appUrl}/api/nope`), 404, 'NOT_FOUND');
    const wrongMethod = await fetch(`${stack.appUrl}/api/presign`);
    await expectError(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.get('allow')).toContain('POST');
  });

  it('answers API preflight from the allowed origin, and refuses other origins', async () => {
    const preflight = (origin: string) => fetch(`${stack.appUrl}/api/presign`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    const allowed = await preflight(APP_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(allowed.headers.get('vary')).toContain('Origin');

    const denied = await preflight('https://evil.example');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(await errorCode(denied)).toBe('ORIGIN_NOT_ALLOWED');

    // The app's own origin is always allowed.
    expect((await preflight(stack.appUrl)).headers.get('access-control-allow-origin')).toBe(stack.appUrl);
  });

  it('serves cross-origin API calls to the allowed origin only', async () => {
    const body = JSON.stringify({ operation: 'get', objects: [{ name: fragmentName() }] });
    const allowed = await presignRaw(stack.appUrl, { token: TOKEN, body, headers: { origin: APP_ORIGIN } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);

    const denied = await presignRaw(stack.appUrl, { token: TOKEN, body, headers: { origin: 'https://evil.example' } });
    await expectError(denied, 403, 'ORIGIN_NOT_ALLOWED');
  });

  it('refuses requests addressed to a foreign Host (DNS rebinding)', async () => {
    const { port } = new URL(stack.appUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/config', headers: { host: `rebind.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('keeps each user inside their own prefix', async () => {
    const name = fragmentName();
    const carol = await presignOne(stack.appUrl, TOKEN, 'put', { name, ...putFields() });
    const dave = await presignOne(stack.appUrl, OTHER, 'put', { name, ...putFields() });
    expect(new URL(carol.url).pathname).toBe(`/ehr-vault/users/carol/fragments/${name}`);
    expect(new URL(dave.url).pathname).toBe(`/ehr-vault/users/dave/fragments/${name}`);
  });
});

describe('presign API limits', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;
  const EXPIRY = 'expiry-token-0123456789abc';
  const LIMITED = 'limited-token-0123456789ab';

  beforeAll(async () => {
    const temp = await makeTempDir('limits');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [EXPIRY]: 'erin', [LIMITED]: 'frank' },
      presignExpiresSeconds: 1,
      rateLimit: { burst: 3, perSecond: 0.01 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('rate-limits each token with 429 and Retry-After', async () => {
    const body = { operation: 'head', objects: [{ name: fragmentName() }] };
    for (let i = 0; i < 3; i += 1) expect((await post(stack, body, LIMITED)).status).toBe(200);
    const limited = await post(stack, body, LIMITED);
    await expectError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another token has its own bucket.
    expect((await post(stack, body, EXPIRY)).status).toBe(200);
  });

  it('allows only the app\'s own origin by default: a local dev server cannot read /api/config (issue #14)', async () => {
    for (const origin of ['http://127.0.0.1:5173', 'http://localhost:5173', 'http://127.0.0.1:4173', 'http://localhost:4173']) {
      const response = await fetch(`${stack.appUrl}/api/config`, { headers: { origin } });
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(await errorCode(response)).toBe('ORIGIN_NOT_ALLOWED');
    }
    const own = await fetch(`${stack.appUrl}/api/config`, { headers: { origin: stack.appUrl } });
    expect(own.status).toBe(200);
    expect(own.headers.get('access-control-allow-origin')).toBe(stack.appUrl);
  });

  it('gets 403 from S3 once a presigned URL has expired', async () => {
    const put = await presignOne(stack.appUrl, EXPIRY, 'put', { name: fragmentName(), ...putFields(new Uint8Array(16)) });
    expect(new URL(put.url).searchParams.get('X-Amz-Expires')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const response = await send(put, new Uint8Array(16));
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Request has expired');
  });
});
