import { describe, expect, it } from 'vitest';
import type { Transport, TransportRequest } from '../../../src/services/http-transport.js';
import { PresignClient, resolveCloudEndpoint, type CloudEndpoint } from '../../../src/services/presign-client.js';

const NAME = 'abcdefghijklmnopqrstuvwxyz234567';
const DIGEST = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';

function stubTransport(answer: (request: TransportRequest) => { status: number; json?: unknown; headers?: Record<string, string> }): Transport & { seen: TransportRequest[] } {
  const seen: TransportRequest[] = [];
  return {
    seen,
    async send(request) {
      seen.push(request);
      const { status, json, headers = {} } = answer(request);
      return { status, header: (n) => headers[n.toLowerCase()] ?? null, body: new Blob([json === undefined ? '' : JSON.stringify(json)]) };
    },
  };
}

const endpoint = (over: Partial<CloudEndpoint> = {}): CloudEndpoint => ({
  presignUrl: 'https://vault.example/api/presign',
  token: 'secret-token-123456',
  checksumSha256: true,
  maxObjectsPerRequest: 256,
  maxObjectBytes: 1_000,
  ...over,
});

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? `untyped: ${String(e)}`);

describe('presign client', () => {
  it('posts the operation and objects with the bearer token; a put always carries size and checksum', async () => {
    const ok = { status: 200, json: { expiresAt: '2030-01-01T00:00:00.000Z', urls: [{ name: NAME, url: 'https://s3.example/b/k?X-Amz-Signature=1', method: 'PUT', headers: { 'x-amz-checksum-sha256': DIGEST } }] } };
    const transport = stubTransport(() => ok);
    const batch = await new PresignClient(endpoint(), transport).presign('put', [{ name: NAME, sha256: DIGEST, size: 10 }]);
    expect(batch.expiresAt).toBe(Date.parse('2030-01-01T00:00:00.000Z'));
    expect(batch.urls[0]).toMatchObject({ name: NAME, method: 'PUT', headers: { 'x-amz-checksum-sha256': DIGEST } });
    const [request] = transport.seen;
    expect(request).toMatchObject({ method: 'POST', url: 'https://vault.example/api/presign', headers: { authorization: 'Bearer secret-token-123456', 'content-type': 'application/json' } });
    expect(JSON.parse(request!.body as string)).toEqual({ operation: 'put', objects: [{ name: NAME, sha256: DIGEST, size: 10 }] });

    await new PresignClient(endpoint({ checksumSha256: false }), transport).presign('put', [{ name: NAME, sha256: DIGEST, size: 10 }]);
    expect(JSON.parse(transport.seen[1]!.body as string)).toEqual({ operation: 'put', objects: [{ name: NAME, sha256: DIGEST, size: 10 }] });
    // A put without its size or digest is refused before anything is sent.
    expect(await codeOf(() => new PresignClient(endpoint(), transport).presign('put', [{ name: NAME, size: 10 }]))).toBe('INPUT_INVALID');
    expect(await codeOf(() => new PresignClient(endpoint(), transport).presign('put', [{ name: NAME, sha256: DIGEST }]))).toBe('INPUT_INVALID');
    expect(transport.seen).toHaveLength(2);
    await new PresignClient(endpoint(), stubTransport(() => ({ ...ok, json: { ...ok.json, urls: [{ ...ok.json.urls[0], method: 'GET' }] } }))).presign('get', [{ name: NAME, sha256: DIGEST, size: 10 }]);
  });

  it('maps refusals to typed errors', async () => {
    const client = (status: number, code: string, headers: Record<string, string> = {}) =>
      new PresignClient(endpoint(), stubTransport(() => ({ status, headers, json: { error: { code, message: `server says ${code}`, hint: 'h' } } })));
    const presign = (c: PresignClient) => c.presign('get', [{ name: NAME }]);
    expect(await codeOf(() => presign(client(401, 'INVALID_TOKEN')))).toBe('PRESIGN_UNAUTHORIZED');
    expect(await codeOf(() => presign(client(400, 'INVALID_OBJECT_NAME')))).toBe('PRESIGN_REJECTED');
    expect(await codeOf(() => presign(client(403, 'ORIGIN_NOT_ALLOWED')))).toBe('PRESIGN_REJECTED');
    expect(await codeOf(() => presign(client(503, 'UNAVAILABLE')))).toBe('PRESIGN_UNAVAILABLE');
    const limited = await presign(client(429, 'RATE_LIMITED', { 'retry-after': '4' })).catch((e: unknown) => e as { code: string; retryable: boolean; details: Record<string, unknown> });
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryable: true, details: { retryAfterMs: 4_000, serverCode: 'RATE_LIMITED' } });
  });

  it('refuses an answer that names other objects than requested (bytes would go elsewhere)', async () => {
    const other = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz';
    const transport = stubTransport(() => ({ status: 200, json: { expiresAt: '2030-01-01T00:00:00Z', urls: [{ name: other, url: 'https://s3.example/x', method: 'GET', headers: {} }] } }));
    expect(await codeOf(() => new PresignClient(endpoint(), transport).presign('get', [{ name: NAME }]))).toBe('PRESIGN_REJECTED');
  });

  it('validates names and batch size before sending anything', async () => {
    const transport = stubTransport(() => ({ status: 500 }));
    const client = new PresignClient(endpoint({ maxObjectsPerRequest: 2 }), transport);
    expect(await codeOf(() => client.presign('get', [{ name: 'UPPERCASE-NOT-ALLOWED-xxxxxxxxxxx' }]))).toBe('INPUT_INVALID');
    expect(await codeOf(() => client.presign('get', [{ name: NAME }, { name: NAME.replace('a', 'b') }, { name: NAME.replace('a', 'c') }]))).toBe('INPUT_INVALID');
    expect(transport.seen).toHaveLength(0);
  });
});

describe('cloud endpoint resolution', () => {
  const config = { presignUrl: '/api/presign', defaultToken: 'dev-token-abcdefgh', expiresInSeconds: 900, maxObjectsPerRequest: 100, maxObjectBytes: 5_000, checksumSha256: true, storage: 'embedded' };

  it('uses the app server\'s /api/config (presign URL made absolute, dev token, limits)', async () => {
    const transport = stubTransport((r) => (r.url === 'http://127.0.0.1:8080/api/config' ? { status: 200, json: config } : { status: 404 }));
    expect(await resolveCloudEndpoint({ origin: 'http://127.0.0.1:8080', transport })).toEqual({
      presignUrl: 'http://127.0.0.1:8080/api/presign',
      token: 'dev-token-abcdefgh',
      checksumSha256: true,
      maxObjectsPerRequest: 100,
      maxObjectBytes: 5_000,
    });
  });

  it('without a default token, asks for settings (CLOUD_NOT_CONFIGURED)', async () => {
    const transport = stubTransport(() => ({ status: 200, json: { ...config, defaultToken: null } }));
    expect(await codeOf(() => resolveCloudEndpoint({ origin: 'https://app.example', transport }))).toBe('CLOUD_NOT_CONFIGURED');
  });

  it('uses the configured service and token, reading limits from its sibling /config when it has one', async () => {
    const transport = stubTransport((r) => (r.url === 'https://other.example/v1/config' ? { status: 200, json: { ...config, checksumSha256: false } } : { status: 404 }));
    const settings = { presignUrl: 'https://other.example/v1/presign', token: 'my-own-token-1234' };
    expect(await resolveCloudEndpoint({ origin: 'https://app.example', transport, settings })).toMatchObject({ presignUrl: settings.presignUrl, token: settings.token, checksumSha256: false, maxObjectsPerRequest: 100 });
    const bare = stubTransport(() => ({ status: 404 }));
    expect(await resolveCloudEndpoint({ origin: 'https://app.example', transport: bare, settings })).toMatchObject({ checksumSha256: false, maxObjectsPerRequest: 256, maxObjectBytes: 64 * 1024 * 1024 });
    expect(await codeOf(() => resolveCloudEndpoint({ origin: 'https://app.example', transport: bare, settings: { presignUrl: 'ftp://x/presign', token: 't' } }))).toBe('CLOUD_NOT_CONFIGURED');
  });
});

describe('cloud endpoint resolution while offline', () => {
  it('reports the network failure instead of silently using default limits', async () => {
    const { ServiceError } = await import('../../../src/services/service-error.js');
    const offline: Transport = { send: async () => Promise.reject(new ServiceError('NETWORK_ERROR', 'down')) };
    const settings = { presignUrl: 'https://other.example/v1/presign', token: 'my-own-token-1234' };
    expect(await codeOf(() => resolveCloudEndpoint({ origin: 'https://app.example', transport: offline, settings }))).toBe('NETWORK_ERROR');
    expect(await codeOf(() => resolveCloudEndpoint({ origin: 'https://app.example', transport: offline }))).toBe('NETWORK_ERROR');
  });
});
