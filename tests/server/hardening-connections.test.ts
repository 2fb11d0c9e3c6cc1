/**
 * Slow and idle clients (slow-loris): a request whose headers or body never finish, a connection that
 * sends nothing, an idle keep-alive connection, and hundreds of such connections at once. Each must be
 * answered 408 (or dropped) and closed by the server on its own, while the API keeps serving everyone else.
 *
 * The stack runs with short limits (`httpTimeouts`) so the test is quick; the defaults are 10 s for headers,
 * 30 s for the whole request and 5 s idle, enforced to within a second (server/http-server.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../server/config-error.js';
import { resolveStackOptions } from '../../server/stack-options.js';
import { startStack, type Stack } from '../../server/start.js';
import { fragmentName, makeTempDir, presign, putFields } from './helpers.js';
import { rawRequest, requestText, slowClient, type SlowClient } from './raw-http.js';

const TOKEN = 'slow-clients-token-0123456789';
const LIMITS = { headersMs: 300, requestMs: 800, keepAliveMs: 300 };
/** A test fails (instead of hanging) if the server never closes a connection. */
const BOUND_MS = 20_000;

describe('slow and idle clients', () => {
  let stack: Stack;
  let port: number;
  let host: string;
  let removeTemp: () => Promise<void>;
  const clients: SlowClient[] = [];

  beforeAll(async () => {
    const temp = await makeTempDir('slow-clients');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [TOKEN]: 'erin' },
      rateLimit: { burst: 1_000, perSecond: 1_000 },
      httpTimeouts: LIMITS,
    });
    port = Number(new URL(stack.appUrl).port);
    host = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await stack?.close();
    await removeTemp?.();
  });

  const track = (client: SlowClient): SlowClient => {
    clients.push(client);
    return client;
  };

  it(
    'headers that never finish (a header line every 100 ms) get 408 and the connection is closed',
    async () => {
      const client = track(slowClient(port, `POST /api/presign HTTP/1.1\r\nHost: ${host}\r\n`, { data: 'X-Slow: 1\r\n', everyMs: 100 }));
      expect((await client.closed).status).toBe(408);
    },
    BOUND_MS,
  );

  it(
    'a body that never ends (one byte every 100 ms of a declared 64 KiB) gets 408 and the connection is closed',
    async () => {
      const head = requestText('POST', '/api/presign', host, { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, 'Content-Length': String(64 * 1024) }).replace('Connection: close\r\n', '');
      const client = track(slowClient(port, `${head}{"operation":"get","objects":[`, { data: ' ', everyMs: 100 }));
      expect((await client.closed).status).toBe(408);
    },
    BOUND_MS,
  );

  it(
    'a chunked body that never ends gets 408 and the connection is closed',
    async () => {
      const head = `POST /api/presign HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const client = track(slowClient(port, `${head}1\r\n{\r\n`, { data: '1\r\n \r\n', everyMs: 100 }));
      expect((await client.closed).status).toBe(408);
    },
    BOUND_MS,
  );

  it(
    'a connection that never sends a byte is closed',
    async () => {
      const client = track(slowClient(port, ''));
      const response = await client.closed;
      expect(response.status === undefined || response.status === 408).toBe(true);
    },
    BOUND_MS,
  );

  it(
    'an idle keep-alive connection is closed after its request was answered',
    async () => {
      const client = track(slowClient(port, `GET /api/health HTTP/1.1\r\nHost: ${host}\r\n\r\n`));
      const response = await client.closed;
      expect(response.status).toBe(200);
      // Exactly one response: the server closed the idle connection rather than waiting for a next request.
      expect(response.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    },
    BOUND_MS,
  );

  it(
    '300 stalled connections do not stop the API, and every one of them is closed by the server',
    async () => {
      const stalled = Array.from({ length: 300 }, (_, i) =>
        track(i % 2 === 0 ? slowClient(port, `GET /api/health HTTP/1.1\r\nHost: ${host}\r\n`) : slowClient(port, `POST /api/presign HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n{`)),
      );
      // While they hang, other clients are served.
      const name = fragmentName();
      const { urls } = await presign(stack.appUrl, TOKEN, { operation: 'put', objects: [{ name, ...putFields() }] });
      expect(new URL(urls[0]!.url).pathname).toBe(`/ehr-vault/users/erin/fragments/${name}`);
      expect((await rawRequest(port, requestText('GET', '/api/health', host))).status).toBe(200);
      const results = await Promise.all(stalled.map((client) => client.closed));
      expect(results.map((r) => r.status).filter((status) => status !== 408)).toEqual([]);
      // And the server is still healthy afterwards.
      expect((await fetch(`${stack.appUrl}/api/health`)).status).toBe(200);
    },
    BOUND_MS,
  );
});

describe('slow-client limits configuration', () => {
  it('defaults to 10 s headers, 30 s request, 5 s idle', () => {
    expect(resolveStackOptions({}).httpTimeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 });
  });

  it('refuses limits that are out of range or contradictory', () => {
    expect(() => resolveStackOptions({ httpTimeouts: { headersMs: 0 } })).toThrow(ConfigError);
    expect(() => resolveStackOptions({ httpTimeouts: { requestMs: 10 * 60_000 + 1 } })).toThrow(ConfigError);
    expect(() => resolveStackOptions({ httpTimeouts: { headersMs: 5_000, requestMs: 1_000 } })).toThrow(/must not exceed/);
  });
});
