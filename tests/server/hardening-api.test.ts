/**
 * Hardening of the presign API beyond api-validation.test.ts: a name can never carry a prefix (fuzzed, and
 * every encoding of a slash or a dot-dot), bodies at and past the byte and object limits, JSON that is
 * malformed in the ways parsers disagree on, content types, framing and header abuse, odd methods, and the
 * per-token rate limit under concurrency, bad bodies and token guessing.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { fragmentName, makeTempDir, presignRaw, putFields, type ErrorResponse, type PresignResponse } from './helpers.js';
import { rawRequest, requestText } from './raw-http.js';

const CAROL = 'hardening-carol-0123456789';
const NAME_PATTERN = /^[a-z0-9]{16,64}$/;
const APP_ORIGIN = 'http://127.0.0.1:5173';

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const text = await response.text();
  let code = `(not JSON: ${text.slice(0, 80)})`;
  try {
    code = (JSON.parse(text) as ErrorResponse).error.code;
  } catch {
    /* reported through `code` */
  }
  return { status: response.status, code };
}

describe('presign API hardening', () => {
  let stack: Stack;
  let port: number;
  let host: string;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('hardening-api');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [CAROL]: 'carol' },
      appOrigins: [APP_ORIGIN],
      rateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
    });
    port = Number(new URL(stack.appUrl).port);
    host = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  const post = (body: string, headers: Record<string, string> = {}) => presignRaw(stack.appUrl, { token: CAROL, body, headers });

  describe('a name can never carry a prefix', () => {
    /** Characters that build paths, encodings of them, and look-alikes; plus plain name characters. */
    const nameCharArb = fc.constantFrom(
      ...'abcdefghijklmnopqrstuvwxyz0123456789',
      ...'ABCZ/\\.%:?#@~ -_+=&;',
      '%2F',
      '%2f',
      '%5C',
      '%2e',
      '%2E%2E',
      '%00',
      '\u0000',
      '\n',
      '\t',
      '\u2215', // division slash
      '\uFF0F', // fullwidth solidus
      '\u2024', // one dot leader
      'é',
      '😀',
    );
    const nameArb = fc.oneof(
      { weight: 3, arbitrary: fc.array(nameCharArb, { maxLength: 70 }).map((chars) => chars.join('')) },
      { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9]{14,66}$/) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom('users/dave/fragments/', '../', '..%2F', '%2e%2e%2f', 'users%2Fdave%2Ffragments%2F', '/', '\\', './', 'users\\dave\\'), fc.stringMatching(/^[a-z0-9]{16,40}$/), fc.constantFrom('', '/', '/..', '%2F..', '\n', '\u0000', '?x=1', '#x'))
          .map(([prefix, name, suffix]) => prefix + name + suffix),
      },
    );

    it('any string is either a plain name presigned inside users/<caller>/fragments/, or refused with INVALID_OBJECT_NAME (fuzzed)', async () => {
      let accepted = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(nameArb, async (name) => {
          const response = await post(JSON.stringify({ operation: 'put', objects: [{ name, ...putFields() }] }));
          if (NAME_PATTERN.test(name)) {
            expect(response.status, JSON.stringify(name)).toBe(200);
            const { urls } = (await response.json()) as PresignResponse;
            expect(urls).toHaveLength(1);
            // The whole path is the bucket, the caller's prefix and the name: nothing the client sent can move it.
            expect(new URL(urls[0]!.url).pathname).toBe(`/ehr-vault/users/carol/fragments/${name}`);
            accepted += 1;
          } else {
            expect(await errorOf(response), JSON.stringify(name)).toEqual({ status: 400, code: 'INVALID_OBJECT_NAME' });
            refused += 1;
          }
        }),
        { numRuns: 300 },
      );
      console.log(`[hardening] object-name fuzz: ${accepted + refused} names, ${accepted} accepted, ${refused} refused`);
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    });

    it.each([
      ['url-encoded slashes', 'users%2Fdave%2Ffragments%2F0123456789abcdef'],
      ['lowercase url-encoded slashes', 'users%2fdave%2ffragments%2f0123456789abcdef'],
      ['encoded dot-dot', '%2e%2e%2f%2e%2e%2fusers%2fdave%2f0123456789abcdef'],
      ['double-encoded', '%252e%252e%252f0123456789abcdef'],
      ['backslashes', 'users\\dave\\fragments\\0123456789abcdef'],
      ['a trailing slash', '0123456789abcdef/'],
      ['a leading slash', '/0123456789abcdef'],
      ['a trailing newline', '0123456789abcdef\n'],
      ['a NUL', '0123456789abcdef\u0000'],
      ['an encoded NUL', '0123456789abcdef%00'],
      ['a division slash', 'users\u2215dave\u22150123456789abcdef'],
      ['a fullwidth solidus', 'users\uFF0Fdave\uFF0F0123456789abcdef'],
      ['a query', '0123456789abcdef?x-id=PutObject'],
      ['a fragment', '0123456789abcdef#x'],
      ['10,000 characters', 'a'.repeat(10_000)],
    ])('refuses a name with %s', async (_label, name) => {
      expect(await errorOf(await post(JSON.stringify({ operation: 'get', objects: [{ name }] })))).toEqual({ status: 400, code: 'INVALID_OBJECT_NAME' });
    });

    it('refuses names that are not strings', async () => {
      for (const name of [['users', 'dave'], { path: 'users/dave' }, null, true, 1e16]) {
        expect(await errorOf(await post(JSON.stringify({ operation: 'get', objects: [{ name }] })))).toEqual({ status: 400, code: 'INVALID_OBJECT_NAME' });
      }
    });
  });

  describe('body size and shape', () => {
    /** A valid request padded with whitespace to exactly `size` bytes. */
    function paddedRequest(size: number): string {
      const json = JSON.stringify({ operation: 'head', objects: [{ name: fragmentName() }] });
      return json + ' '.repeat(size - Buffer.byteLength(json));
    }

    it('accepts a body of exactly MAX_BODY_BYTES and refuses one byte more with 413', async () => {
      const limit = stack.options.maxBodyBytes;
      expect((await post(paddedRequest(limit))).status).toBe(200);
      expect(await errorOf(await post(paddedRequest(limit + 1)))).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    });

    it('refuses a Content-Length over the limit before reading the body', async () => {
      // Only 2 body bytes follow; the server answers from the header alone.
      const response = await rawRequest(port, requestText('POST', '/api/presign', host, { 'Content-Type': 'application/json', Authorization: `Bearer ${CAROL}`, 'Content-Length': String(10 * 1024 * 1024) }, '{}'));
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
    });

    it('accepts exactly MAX_OBJECTS_PER_REQUEST objects, and refuses a huge array by its count alone', async () => {
      const max = stack.options.maxObjectsPerRequest;
      const ok = await post(JSON.stringify({ operation: 'head', objects: Array.from({ length: max }, () => ({ name: fragmentName() })) }));
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as PresignResponse).urls).toHaveLength(max);
      // ~5,000 elements that are not even objects fit in 64 KiB: refused as too many, not element by element.
      const huge = `{"operation":"get","objects":[${Array.from({ length: 5_000 }, () => '0').join(',')}]}`;
      expect(Buffer.byteLength(huge)).toBeLessThan(stack.options.maxBodyBytes);
      expect(await errorOf(await post(huge))).toEqual({ status: 400, code: 'TOO_MANY_OBJECTS' });
    });

    const name = '0123456789abcdef0123';
    it.each([
      ['a byte-order mark', `\uFEFF{"operation":"get","objects":[{"name":"${name}"}]}`, 'MALFORMED_JSON'],
      ['trailing garbage', `{"operation":"get","objects":[{"name":"${name}"}]}x`, 'MALFORMED_JSON'],
      ['two JSON values', `{"operation":"get","objects":[{"name":"${name}"}]}{}`, 'MALFORMED_JSON'],
      ['single quotes', `{'operation':'get'}`, 'MALFORMED_JSON'],
      ['a comment', `{"operation":"get", /* x */ "objects":[{"name":"${name}"}]}`, 'MALFORMED_JSON'],
      ['NaN', `{"operation":"put","objects":[{"name":"${name}","size":NaN}]}`, 'MALFORMED_JSON'],
      ['whitespace only', ' \r\n\t ', 'EMPTY_BODY'],
      ['a JSON string', '"put"', 'INVALID_REQUEST'],
      ['JSON null', 'null', 'INVALID_REQUEST'],
      ['nesting 20,000 deep', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, 'INVALID_REQUEST'],
      ['a __proto__ member', `{"operation":"get","objects":[{"name":"${name}"}],"__proto__":{"operation":"put"}}`, 'UNKNOWN_FIELD'],
      ['a nested __proto__ member', `{"operation":"get","objects":[{"name":"${name}","__proto__":{"size":1}}]}`, 'UNKNOWN_FIELD'],
      ['a constructor member', `{"operation":"get","objects":[{"name":"${name}"}],"constructor":{"prototype":{}}}`, 'UNKNOWN_FIELD'],
      ['a size of 1e309 (Infinity)', `{"operation":"put","objects":[{"name":"${name}","size":1e309}]}`, 'INVALID_SIZE'],
      ['a size above 2^53', `{"operation":"put","objects":[{"name":"${name}","size":9007199254740993}]}`, 'INVALID_SIZE'],
      ['an operation that differs only in case', `{"operation":"PUT","objects":[{"name":"${name}"}]}`, 'INVALID_OPERATION'],
    ])('answers a body with %s with 400 %s, never 500', async (_label, body, code) => {
      expect(await errorOf(await post(body))).toEqual({ status: 400, code });
    });

    it('reads a duplicated member as JSON.parse does (the last) and still validates it', async () => {
      const body = `{"operation":"put","operation":"list","objects":[{"name":"${name}"}]}`;
      expect(await errorOf(await post(body))).toEqual({ status: 400, code: 'INVALID_OPERATION' });
    });

    it('turns invalid UTF-8 into U+FFFD, so it can only fail validation', async () => {
      const bytes = Buffer.concat([Buffer.from('{"operation":"get","objects":[{"name":"0123456789abcdef'), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('"}]}')]);
      const response = await fetch(`${stack.appUrl}/api/presign`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CAROL}` }, body: bytes });
      expect(await errorOf(response)).toEqual({ status: 400, code: 'INVALID_OBJECT_NAME' });
    });

    it.each([
      ['application/json; charset=utf-8', 200],
      ['APPLICATION/JSON', 200],
      ['application/json-seq', 415],
      ['text/json', 415],
      ['application/x-www-form-urlencoded', 415],
      ['multipart/form-data; boundary=x', 415],
    ])('Content-Type %s → %i', async (type, status) => {
      const response = await post(JSON.stringify({ operation: 'get', objects: [{ name: fragmentName() }] }), { 'content-type': type });
      expect(response.status).toBe(status);
      if (status !== 200) expect((await errorOf(response)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses a request without Content-Type with 415', async () => {
      const response = await rawRequest(port, requestText('POST', '/api/presign', host, { Authorization: `Bearer ${CAROL}`, 'Content-Length': '2' }, '{}'));
      expect(response.status).toBe(415);
    });
  });

  describe('framing, headers and methods', () => {
    const json = `{"operation":"get","objects":[{"name":"${'a'.repeat(20)}"}]}`;

    it.each<{ label: string; headers: Record<string, string>; body: string; extra: string }>([
      { label: 'Content-Length and Transfer-Encoding together (request smuggling)', headers: { 'Content-Length': '4', 'Transfer-Encoding': 'chunked' }, body: '0\r\n\r\n', extra: '' },
      { label: 'two different Content-Length headers', headers: { 'Content-Length': '2' }, body: '{}', extra: 'Content-Length: 3\r\n' },
      { label: 'a non-numeric Content-Length', headers: { 'Content-Length': 'abc' }, body: '{}', extra: '' },
      { label: 'a negative Content-Length', headers: { 'Content-Length': '-1' }, body: '{}', extra: '' },
    ])('refuses $label with 400 before the handler runs', async ({ headers, body, extra }) => {
      const text = requestText('POST', '/api/presign', host, { 'Content-Type': 'application/json', Authorization: `Bearer ${CAROL}`, ...headers }, body).replace('\r\n\r\n', `\r\n${extra}\r\n`);
      expect((await rawRequest(port, text)).status).toBe(400);
      // The server is unaffected.
      expect((await fetch(`${stack.appUrl}/api/health`)).status).toBe(200);
    });

    it('refuses request headers over 16 KiB with 431, in any header (a huge bearer token included)', async () => {
      const oversized: Record<string, string>[] = [{ 'X-Pad': 'x'.repeat(20_000) }, { Authorization: `Bearer ${'t'.repeat(20_000)}` }];
      for (const headers of oversized) {
        const response = await rawRequest(port, requestText('POST', '/api/presign', host, { 'Content-Type': 'application/json', 'Content-Length': String(json.length), ...headers }, json));
        expect(response.status).toBe(431);
      }
      expect((await fetch(`${stack.appUrl}/api/health`)).status).toBe(200);
    });

    it('refuses a bearer token over 256 characters as INVALID_TOKEN', async () => {
      const response = await presignRaw(stack.appUrl, { token: 'x'.repeat(300), body: json });
      expect(await errorOf(response)).toEqual({ status: 401, code: 'INVALID_TOKEN' });
    });

    it.each(['PUT', 'DELETE', 'PATCH', 'TRACE', 'HEAD'])('answers %s /api/presign with 405 and Allow', async (method) => {
      const response = await rawRequest(port, requestText(method, '/api/presign', host, { 'Content-Type': 'application/json', Authorization: `Bearer ${CAROL}`, 'Content-Length': String(json.length) }, json));
      expect(response.status).toBe(405);
      expect(response.headers.allow).toContain('POST');
      if (method !== 'HEAD') expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    });

    it('answers POST on the read-only endpoints with 405', async () => {
      for (const path of ['/api/health', '/api/config']) {
        expect(await errorOf(await fetch(`${stack.appUrl}${path}`, { method: 'POST', body: '{}' }))).toEqual({ status: 405, code: 'METHOD_NOT_ALLOWED' });
      }
    });

    it('refuses an unknown method with 400 and a CONNECT tunnel by closing the connection', async () => {
      expect((await rawRequest(port, requestText('FOO', '/api/presign', host))).status).toBe(400);
      const tunnel = await rawRequest(port, `CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`);
      expect(tunnel.status === undefined || tunnel.status >= 400).toBe(true);
      expect((await fetch(`${stack.appUrl}/api/health`)).status).toBe(200);
    });

    it('routes a dot-dot path under /api/ to the API (JSON 404), never to files', async () => {
      const response = await rawRequest(port, requestText('GET', '/api/../package.json', host));
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    });
  });
});

describe('per-token rate limit', () => {
  const LIMITED = ['limit-token-a-0123456789', 'limit-token-b-0123456789', 'limit-token-c-0123456789', 'limit-token-d-0123456789'] as const;
  const BURST = 5;
  let stack: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('hardening-limit');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: Object.fromEntries(LIMITED.map((token, i) => [token, `user${i}`])),
      appOrigins: [APP_ORIGIN],
      rateLimit: { burst: BURST, perSecond: 0.001 },
      // Guessing is throttled per address (next describe); here only the per-token budget is under test.
      authFailureLimit: { burst: 1_000, perSecond: 1_000 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  const valid = () => JSON.stringify({ operation: 'head', objects: [{ name: fragmentName() }] });

  it('lets exactly the burst through when many requests race, and answers the rest 429 with Retry-After', async () => {
    const responses = await Promise.all(Array.from({ length: 4 * BURST }, () => presignRaw(stack.appUrl, { token: LIMITED[0], body: valid() })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(BURST);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3 * BURST);
    for (const response of responses.filter((r) => r.status === 429)) {
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await errorOf(response)).code).toBe('RATE_LIMITED');
    }
  });

  it('counts requests with bad bodies too: malformed requests are not free retries', async () => {
    for (let i = 0; i < BURST; i += 1) {
      expect((await errorOf(await presignRaw(stack.appUrl, { token: LIMITED[1], body: '{"operation":' }))).status).toBe(400);
    }
    expect(await errorOf(await presignRaw(stack.appUrl, { token: LIMITED[1], body: valid() }))).toEqual({ status: 429, code: 'RATE_LIMITED' });
  });

  it('guessing tokens is refused 401 every time and never spends a real token\'s budget', async () => {
    const guesses = await Promise.all(Array.from({ length: 300 }, () => presignRaw(stack.appUrl, { token: `guess-${randomBytes(12).toString('hex')}`, body: valid() })));
    expect(new Set(guesses.map((r) => r.status))).toEqual(new Set([401]));
    const statuses: number[] = [];
    for (let i = 0; i < BURST; i += 1) statuses.push((await presignRaw(stack.appUrl, { token: LIMITED[2], body: valid() })).status);
    expect(statuses).toEqual(Array.from({ length: BURST }, () => 200));
  });

  it('shows Retry-After to the app origin on a 429 (exposed through CORS)', async () => {
    for (let i = 0; i < BURST; i += 1) await presignRaw(stack.appUrl, { token: LIMITED[3], body: valid() });
    const limited = await presignRaw(stack.appUrl, { token: LIMITED[3], body: valid(), headers: { origin: APP_ORIGIN } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(limited.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');
  });
});

describe('wrong tokens are throttled per address (issue #14)', () => {
  const REAL = 'real-token-0123456789abcdef';
  const FAILURES = 8;
  let stack: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('hardening-guess');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [REAL]: 'alice' },
      authFailureLimit: { burst: FAILURES, perSecond: 0.001 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  const body = () => JSON.stringify({ operation: 'head', objects: [{ name: fragmentName() }] });

  it('answers 401 to the first wrong tokens, then 429 with Retry-After to every request from that address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) {
      const response = await presignRaw(stack.appUrl, { token: `guess-${randomBytes(12).toString('hex')}`, body: body() });
      statuses.push(response.status);
      if (response.status === 429) {
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        const error = (await response.json()) as ErrorResponse;
        expect(error.error.code).toBe('AUTH_THROTTLED');
        expect(error.error.hint).toMatch(/Wait \d+ s/);
      }
    }
    expect(statuses.slice(0, FAILURES)).toEqual(Array.from({ length: FAILURES }, () => 401));
    expect(statuses.slice(FAILURES)).toEqual(Array.from({ length: 40 - FAILURES }, () => 429));
    // A throttled address learns nothing from a right guess either.
    expect((await presignRaw(stack.appUrl, { token: REAL, body: body() })).status).toBe(429);
    // Requests without a token are not guesses, and are not counted as such.
    expect((await presignRaw(stack.appUrl, { body: body() })).status).toBe(429);
  });
});
