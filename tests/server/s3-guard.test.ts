/**
 * Regression tests for the attack review of issue #14 against the embedded S3 (`npm start`'s store):
 * s3rver checked a signature only when one was present and answered any Host, so anyone who could
 * reach it listed, read, wrote and deleted every user's fragments. Each test here failed on the old
 * stack (see docs/SECURITY.md §8) and passes with the guard (server/s3-guard.ts) in front.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresigner } from '../../server/s3-presigner.js';
import { checkS3Request, S3GuardError, type S3GuardPolicy } from '../../server/s3-guard.js';
import { startStack, type Stack } from '../../server/start.js';
import { fragmentName, makeTempDir, presignOne, putFields, send } from './helpers.js';
import { rawRequest, requestText } from './raw-http.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';
const MAX_OBJECT_BYTES = 4096;

const sha256Base64 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

describe('the embedded S3 behind its guard', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;
  let port: number;
  let host: string;
  /** Bob's object, stored through a presigned URL. */
  const bobName = fragmentName();
  const bobBytes = randomBytes(256);
  const bobPath = `/ehr-vault/users/bob/fragments/${bobName}`;

  const bobStillIntact = async () => {
    const get = await send(await presignOne(stack.appUrl, BOB, 'get', { name: bobName }));
    expect(get.status).toBe(200);
    expect(Buffer.from(await get.arrayBuffer()).equals(bobBytes)).toBe(true);
  };

  beforeAll(async () => {
    const temp = await makeTempDir('guard');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [ALICE]: 'alice', [BOB]: 'bob' },
      maxObjectBytes: MAX_OBJECT_BYTES,
    });
    const url = new URL(stack.s3Url);
    port = Number(url.port);
    host = url.host;
    const put = await presignOne(stack.appUrl, BOB, 'put', { name: bobName, ...putFields(bobBytes) });
    expect((await send(put, bobBytes)).status).toBe(200);
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('refuses to LIST the bucket without a signature (all users\' names would show)', async () => {
    for (const path of ['/ehr-vault', '/ehr-vault/', '/ehr-vault?list-type=2', '/ehr-vault/?prefix=users/', '/']) {
      const response = await fetch(`${stack.s3Url}${path}`);
      const body = await response.text();
      expect(response.status, path).toBe(403);
      expect(body, path).not.toContain(bobName);
      expect(body, path).toContain('<Code>AccessDenied</Code>');
    }
  });

  it('refuses unsigned GET, HEAD, PUT and DELETE of another user\'s fragment', async () => {
    const get = await fetch(`${stack.s3Url}${bobPath}`);
    expect(get.status).toBe(403);
    expect(Buffer.from(await get.arrayBuffer()).includes(bobBytes)).toBe(false);
    expect((await fetch(`${stack.s3Url}${bobPath}`, { method: 'HEAD' })).status).toBe(403);
    expect((await fetch(`${stack.s3Url}${bobPath}`, { method: 'PUT', body: randomBytes(256) })).status).toBe(403);
    expect((await fetch(`${stack.s3Url}${bobPath}`, { method: 'DELETE' })).status).toBe(403);
    await bobStillIntact();
  });

  it('refuses a presigned URL whose query string was removed', async () => {
    const get = await presignOne(stack.appUrl, BOB, 'get', { name: bobName });
    const bare = new URL(get.url);
    bare.search = '';
    expect((await fetch(bare.href)).status).toBe(403);
    const del = await presignOne(stack.appUrl, BOB, 'delete', { name: bobName });
    const stripped = new URL(del.url);
    stripped.search = '';
    expect((await fetch(stripped.href, { method: 'DELETE' })).status).toBe(403);
    // Each signing parameter is required, not only the signature.
    for (const parameter of ['X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Algorithm']) {
      const url = new URL(get.url);
      url.searchParams.delete(parameter);
      expect((await fetch(url.href)).status, parameter).toBe(403);
    }
    await bobStillIntact();
  });

  it('refuses requests signed with s3rver\'s public dummy key (S3RVER/S3RVER)', async () => {
    const forger = createPresigner({ endpoint: stack.s3Url, region: 'us-east-1', bucket: 'ehr-vault', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const timing = { expiresInSeconds: 60, signingDate: new Date() };
      const get = await forger.presign('get', `users/bob/fragments/${bobName}`, { name: bobName }, timing);
      expect((await fetch(get.url)).status).toBe(403);
      const del = await forger.presign('delete', `users/bob/fragments/${bobName}`, { name: bobName }, timing);
      expect((await fetch(del.url, { method: 'DELETE' })).status).toBe(403);
    } finally {
      forger.destroy();
    }
    await bobStillIntact();
  });

  it('answers only to its own Host (DNS rebinding), even with a valid presigned URL', async () => {
    const get = new URL((await presignOne(stack.appUrl, BOB, 'get', { name: bobName })).url);
    const path = `${get.pathname}${get.search}`;
    for (const foreign of [`rebind.example:${port}`, 'rebind.example', `localhost:${port}`, '']) {
      const response = await rawRequest(port, requestText('GET', path, foreign));
      expect(response.status, foreign).toBe(403);
      expect(response.body, foreign).not.toContain(bobBytes.toString('latin1'));
    }
    const unsignedList = await rawRequest(port, requestText('GET', '/ehr-vault/', `rebind.example:${port}`));
    expect(unsignedList.status).toBe(403);
    expect(unsignedList.body).not.toContain(bobName);
    // The store's own Host works.
    expect((await rawRequest(port, requestText('GET', path, host))).status).toBe(200);
  });

  it('refuses a cross-site form POST; nothing is created', async () => {
    const boundary = '----evil';
    const key = `users/bob/fragments/${fragmentName()}`;
    const form = [
      `--${boundary}`, 'Content-Disposition: form-data; name="key"', '', key,
      `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="x.html"', 'Content-Type: text/html', '', '<script>alert(1)</script>',
      `--${boundary}--`, '',
    ].join('\r\n');
    for (const path of ['/ehr-vault', '/ehr-vault/', `/ehr-vault/${key}`]) {
      const response = await fetch(`${stack.s3Url}${path}`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, origin: 'https://evil.example' },
        body: form,
      });
      expect(response.status, path).toBe(405);
    }
    const created = await send(await presignOne(stack.appUrl, BOB, 'head', { name: key.split('/').at(-1)! }));
    expect(created.status).toBe(404);
  });

  it('listens on loopback only', async () => {
    expect(new URL(stack.s3Url).hostname).toBe('127.0.0.1');
    const others = Object.values(networkInterfaces()).flat().filter((i) => i !== undefined && i.address !== '127.0.0.1' && !i.address.startsWith('fe80'));
    expect(others.length).toBeGreaterThan(0);
    for (const address of others.map((i) => i!.address)) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port }, () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(outcome, address).not.toBe('connected');
    }
  });

  it('stores only the bytes whose SHA-256 was signed: other bytes of the same length are refused (BadDigest)', async () => {
    const name = fragmentName();
    const bytes = randomBytes(512);
    const put = await presignOne(stack.appUrl, ALICE, 'put', { name, sha256: sha256Base64(bytes), size: bytes.length });
    const forged = randomBytes(512);
    const refused = await send(put, forged);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>BadDigest</Code>');
    expect((await send(await presignOne(stack.appUrl, ALICE, 'head', { name }))).status).toBe(404);
    expect((await send(put, bytes)).status).toBe(200);
    const get = await send(await presignOne(stack.appUrl, ALICE, 'get', { name }));
    expect(Buffer.from(await get.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('cannot skip the object size cap by leaving size (or sha256) out of a put presign', async () => {
    const name = fragmentName();
    const big = randomBytes(MAX_OBJECT_BYTES * 2);
    for (const object of [{ name }, { name, sha256: sha256Base64(big) }, { name, size: big.length - MAX_OBJECT_BYTES }]) {
      const response = await fetch(`${stack.appUrl}/api/presign`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
        body: JSON.stringify({ operation: 'put', objects: [object] }),
      });
      const body = (await response.json()) as { error?: { code: string; hint: string }; urls?: { url: string; method: string; headers: Record<string, string> }[] };
      // The old service signed only the host here, and the store took any number of bytes.
      if (body.urls !== undefined) await send({ name, ...body.urls[0]! }, big);
      expect(response.status, JSON.stringify(Object.keys(object))).toBe(400);
      expect(body.error?.code).toBe('FIELD_REQUIRED');
      expect(body.error?.hint).toContain('sha256');
    }
    expect((await send(await presignOne(stack.appUrl, ALICE, 'head', { name }))).status).toBe(404);
  });

  it('enforces the object size cap in the store too, even for a URL signed without limits', async () => {
    // Signed directly with the store's key (as a misconfigured presigner could), for more than the cap.
    const signer = createPresigner({ endpoint: stack.s3Url, region: 'us-east-1', bucket: 'ehr-vault', forcePathStyle: true, credentials: stack.s3Credentials! });
    try {
      const big = randomBytes(MAX_OBJECT_BYTES + 1);
      const name = fragmentName();
      const put = await signer.presign('put', `users/alice/fragments/${name}`, { name, size: big.length, sha256: sha256Base64(big) }, { expiresInSeconds: 60, signingDate: new Date() });
      const response = await send({ name, ...put }, big);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('<Code>EntityTooLarge</Code>');
      expect((await send(await presignOne(stack.appUrl, ALICE, 'head', { name }))).status).toBe(404);
    } finally {
      signer.destroy();
    }
  });

  it('serves stored bytes as inert: nosniff and a sandbox CSP on every answer', async () => {
    const get = await send(await presignOne(stack.appUrl, BOB, 'get', { name: bobName }));
    expect(get.headers.get('x-content-type-options')).toBe('nosniff');
    expect(get.headers.get('content-security-policy')).toContain('sandbox');
    const refused = await fetch(`${stack.s3Url}${bobPath}`);
    expect(refused.headers.get('content-security-policy')).toContain('sandbox');
  });
});

describe('the guard holds a bounded number of upload bytes at once', () => {
  it('answers 503 SlowDown with Retry-After beyond its budget, and lets uploads through again after', async () => {
    const temp = await makeTempDir('guard-budget');
    const { startLocalS3 } = await import('../../server/local-s3.js');
    const store = await startLocalS3({ host: '127.0.0.1', port: 0, dataDir: `${temp.path}/s3`, bucket: 'ehr-vault', allowedOrigins: ['http://127.0.0.1:1'], maxObjectBytes: 4096, verbose: false, maxBufferedBytes: 1000 });
    const signer = createPresigner({ endpoint: store.endpoint, region: 'us-east-1', bucket: 'ehr-vault', forcePathStyle: true, credentials: store.credentials });
    try {
      const sign = async (bytes: Uint8Array) => {
        const name = fragmentName();
        return { name, ...(await signer.presign('put', `users/u/fragments/${name}`, { name, size: bytes.length, sha256: sha256Base64(bytes) }, { expiresInSeconds: 60, signingDate: new Date() })) };
      };
      // A slow upload holds 800 bytes of the budget of 1000...
      const slow = randomBytes(800);
      const { request } = await import('node:http');
      const signedSlow = await sign(slow);
      const slowUrl = new URL(signedSlow.url);
      const held = request({ host: slowUrl.hostname, port: slowUrl.port, method: 'PUT', path: `${slowUrl.pathname}${slowUrl.search}`, headers: { ...signedSlow.headers, 'content-length': String(slow.length) } });
      const heldAnswer = new Promise<number>((resolve, reject) => {
        held.on('response', (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        });
        held.on('error', reject);
      });
      held.write(slow.subarray(0, 100));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // ... so another one of 300 waits its turn.
      const other = randomBytes(300);
      const refused = await send(await sign(other), other);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.text()).toContain('<Code>SlowDown</Code>');
      held.end(slow.subarray(100));
      expect(await heldAnswer).toBe(200);
      expect((await send(await sign(other), other)).status).toBe(200);
    } finally {
      signer.destroy();
      await store.close();
      await temp.remove();
    }
  });
});

describe('checkS3Request', () => {
  const policy: S3GuardPolicy = { bucket: 'b', allowedHosts: new Set(['127.0.0.1:4568']), accessKeyId: 'EHRVKEY', maxObjectBytes: 100, now: () => Date.UTC(2030, 0, 1, 0, 0, 30) };
  const signed = (extra = '', signedHeaders = 'host') =>
    `/b/users/u/fragments/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=EHRVKEY%2F20300101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20300101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=${encodeURIComponent(signedHeaders)}&X-Amz-Signature=${'a'.repeat(64)}${extra}`;
  const code = (method: string, url: string, headers: Record<string, string> = {}) => {
    try {
      checkS3Request({ method, url, headers: { host: '127.0.0.1:4568', ...headers } }, policy);
      return 'ok';
    } catch (error) {
      return error instanceof S3GuardError ? `${error.status} ${error.code}` : String(error);
    }
  };
  const digest = sha256Base64(new Uint8Array(10));

  it('passes a well-formed presigned GET and PUT, and preflights', () => {
    expect(code('GET', signed())).toBe('ok');
    expect(code('PUT', signed('', 'content-length;host;x-amz-checksum-sha256'), { 'content-length': '10', 'x-amz-checksum-sha256': digest })).toBe('ok');
    expect(code('OPTIONS', '/b/k', { origin: 'http://127.0.0.1:8080', 'access-control-request-method': 'PUT' })).toBe('ok');
  });

  it('refuses everything else with a stable code', () => {
    expect(code('GET', signed(), { host: 'evil.example:4568' })).toBe('403 AccessDenied');
    expect(code('POST', signed())).toBe('405 MethodNotAllowed');
    expect(code('OPTIONS', '/b/k')).toBe('405 MethodNotAllowed');
    expect(code('GET', '/b/')).toBe('403 AccessDenied');
    expect(code('GET', signed().replace('/b/users/u/fragments/x', '/b/'))).toBe('403 AccessDenied');
    expect(code('GET', signed(), { authorization: 'AWS4-HMAC-SHA256 Credential=x' })).toBe('403 AccessDenied');
    expect(code('GET', `${signed()}&X-Amz-Signature=${'b'.repeat(64)}`)).toBe('403 AccessDenied');
    expect(code('GET', signed().replace('EHRVKEY', 'S3RVER'))).toBe('403 AccessDenied');
    expect(code('GET', signed().replace('X-Amz-Expires=60', 'X-Amz-Expires=30'))).toBe('403 AccessDenied');
    expect(code('GET', signed('', 'content-length'))).toBe('403 AccessDenied');
    expect(code('GET', signed('&x-amz-checksum-sha256=abc'))).toBe('403 AccessDenied');
    expect(code('DELETE', signed(), { 'content-length': '5' })).toBe('400 InvalidRequest');
    // Uploads: a length, within the cap, signed with size and digest, and the digest header.
    expect(code('PUT', signed('', 'content-length;host;x-amz-checksum-sha256'), { 'x-amz-checksum-sha256': digest })).toBe('411 MissingContentLength');
    expect(code('PUT', signed('', 'content-length;host;x-amz-checksum-sha256'), { 'content-length': '101', 'x-amz-checksum-sha256': digest })).toBe('400 EntityTooLarge');
    expect(code('PUT', signed('', 'host'), { 'content-length': '10', 'x-amz-checksum-sha256': digest })).toBe('403 AccessDenied');
    expect(code('PUT', signed('', 'content-length;host'), { 'content-length': '10' })).toBe('403 AccessDenied');
    expect(code('PUT', signed('', 'content-length;host;x-amz-checksum-sha256'), { 'content-length': '10' })).toBe('400 InvalidDigest');
  });
});
