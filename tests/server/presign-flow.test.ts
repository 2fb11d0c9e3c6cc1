import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { fragmentName, makeDist, makeTempDir, presign, presignOne, putFields, send } from './helpers.js';

const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';

function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** Flips one hex character of the X-Amz-Signature query parameter. */
function tamperSignature(url: string): string {
  const parsed = new URL(url);
  const signature = parsed.searchParams.get('X-Amz-Signature') ?? '';
  const last = signature.at(-1) === '0' ? '1' : '0';
  parsed.searchParams.set('X-Amz-Signature', signature.slice(0, -1) + last);
  return parsed.href;
}

describe('presign service against the embedded S3', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('flow');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: await makeDist(temp.path),
      tokens: { [ALICE]: 'alice', [BOB]: 'bob' },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('reports health and public config', async () => {
    const health = await fetch(`${stack.appUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', storage: 'embedded' });

    const config = await fetch(`${stack.appUrl}/api/config`);
    expect(await config.json()).toEqual({
      presignUrl: '/api/presign',
      defaultToken: null,
      expiresInSeconds: 900,
      maxObjectsPerRequest: 256,
      maxObjectBytes: 64 * 1024 * 1024,
      checksumSha256: true,
      storage: 'embedded',
      oidc: null,
    });
    expect(stack.token).toBeNull();
  });

  it('round-trips bytes: PUT, GET, HEAD, DELETE, then GET is 404', async () => {
    const name = fragmentName();
    const bytes = randomBytes(4096);

    const put = await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) });
    expect(put.method).toBe('PUT');
    expect(put.name).toBe(name);
    expect(new URL(put.url).pathname).toBe(`/ehr-vault/users/alice/fragments/${name}`);
    expect((await send(put, bytes)).status).toBe(200);

    const get = await presignOne(stack.appUrl, ALICE, 'get', { name });
    const downloaded = await send(get);
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(bytes)).toBe(true);

    const head = await send(await presignOne(stack.appUrl, ALICE, 'head', { name }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(bytes.length));

    const del = await send(await presignOne(stack.appUrl, ALICE, 'delete', { name }));
    expect(del.status).toBe(204);

    const afterDelete = await send(await presignOne(stack.appUrl, ALICE, 'get', { name }));
    expect(afterDelete.status).toBe(404);
    const headAfterDelete = await send(await presignOne(stack.appUrl, ALICE, 'head', { name }));
    expect(headAfterDelete.status).toBe(404);
  });

  it('presigns a whole batch with one expiry', async () => {
    const names = Array.from({ length: 256 }, fragmentName);
    const before = Date.now();
    const response = await presign(stack.appUrl, ALICE, { operation: 'get', objects: names.map((name) => ({ name })) });
    expect(response.urls.map((url) => url.name)).toEqual(names);
    const expiresAt = Date.parse(response.expiresAt);
    expect(expiresAt).toBeGreaterThan(before + 890_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
    for (const url of response.urls) {
      expect(url.method).toBe('GET');
      expect(url.headers).toEqual({});
      expect(new URL(url.url).searchParams.get('X-Amz-Expires')).toBe('900');
    }
  });

  it('rejects a presigned URL whose signature was changed (403)', async () => {
    const name = fragmentName();
    const bytes = randomBytes(32);
    const put = await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) });
    const tampered = await send({ ...put, url: tamperSignature(put.url) }, bytes);
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('SignatureDoesNotMatch');
    // Nothing was stored.
    expect((await send(await presignOne(stack.appUrl, ALICE, 'head', { name }))).status).toBe(404);
  });

  it('rejects a presigned URL whose key was changed (403), so a user cannot reach another prefix', async () => {
    const bytes = randomBytes(64);
    const bobName = fragmentName();
    expect((await send(await presignOne(stack.appUrl, BOB, 'put', { name: bobName, ...putFields(bytes) }), bytes)).status).toBe(200);

    const aliceGet = await presignOne(stack.appUrl, ALICE, 'get', { name: bobName });
    expect(new URL(aliceGet.url).pathname).toBe(`/ehr-vault/users/alice/fragments/${bobName}`);
    // Alice's URL for the same name addresses her own (empty) prefix.
    expect((await send(aliceGet)).status).toBe(404);

    // Rewriting the key to Bob's prefix breaks the signature.
    const rewritten = aliceGet.url.replace('/users/alice/', '/users/bob/');
    const stolen = await fetch(rewritten);
    expect(stolen.status).toBe(403);

    // Changing just the object name breaks it too.
    const otherName = aliceGet.url.replace(bobName, fragmentName());
    expect((await fetch(otherName)).status).toBe(403);

    // Bob still reads his object.
    const bobGet = await send(await presignOne(stack.appUrl, BOB, 'get', { name: bobName }));
    expect(Buffer.from(await bobGet.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('binds the declared size: an upload of another length is refused', async () => {
    const name = fragmentName();
    const bytes = randomBytes(100);
    const put = await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) });
    const longer = Buffer.concat([bytes, Buffer.from([0])]);
    // Other bytes: the guard hashes them first (S3's BadDigest).
    const wrong = await send(put, longer);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('<Code>BadDigest</Code>');
    // Other bytes with their own digest: the signed content-length and checksum no longer match (403).
    expect((await send(put, longer, { 'x-amz-checksum-sha256': sha256Base64(longer) })).status).toBe(403);
    expect((await send(await presignOne(stack.appUrl, ALICE, 'head', { name }))).status).toBe(404);
    expect((await send(put, bytes)).status).toBe(200);
  });

  it('binds the sha256 header into PUT URLs', async () => {
    const name = fragmentName();
    const bytes = randomBytes(512);
    const digest = sha256Base64(bytes);
    const put = await presignOne(stack.appUrl, ALICE, 'put', { name, sha256: digest, size: bytes.length });
    expect(put.headers).toEqual({ 'x-amz-checksum-sha256': digest });
    expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-sha256');

    // Omitting the header, or sending another digest (with or without matching bytes) is refused.
    expect((await fetch(put.url, { method: 'PUT', body: bytes })).status).toBe(400);
    expect((await send(put, bytes, { 'x-amz-checksum-sha256': sha256Base64(randomBytes(8)) })).status).toBe(400);
    const other = randomBytes(512);
    expect((await send(put, other, { 'x-amz-checksum-sha256': sha256Base64(other) })).status).toBe(403);
    expect((await send(put, bytes)).status).toBe(200);
  });

  it('answers S3 CORS preflight for the app origin only', async () => {
    const put = await presignOne(stack.appUrl, ALICE, 'put', { name: fragmentName(), ...putFields() });
    const preflight = (origin: string) => fetch(put.url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type,x-amz-checksum-sha256' },
    });

    const allowed = await preflight(stack.appUrl);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).not.toBeNull();
    expect(allowed.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('x-amz-checksum-sha256');

    const denied = await preflight('https://evil.example');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exposes the ETag to the app origin on S3 responses', async () => {
    const name = fragmentName();
    const bytes = randomBytes(16);
    await send(await presignOne(stack.appUrl, ALICE, 'put', { name, ...putFields(bytes) }), bytes);
    const get = await presignOne(stack.appUrl, ALICE, 'get', { name });
    const response = await fetch(get.url, { headers: { origin: stack.appUrl } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(stack.appUrl);
    expect(response.headers.get('access-control-expose-headers')).toContain('ETag');
  });

  it('works unchanged against an external S3 endpoint configured by URL and keys', async () => {
    const temp = await makeTempDir('external');
    const external = await startStack({
      appPort: 0,
      distDir: temp.path,
      s3: { endpoint: stack.s3Url, region: 'us-east-1', ...stack.s3Credentials!, forcePathStyle: true },
      tokens: { [ALICE]: 'alice' },
    });
    try {
      expect(external.s3Url).toBe(stack.s3Url);
      const config = (await (await fetch(`${external.appUrl}/api/config`)).json()) as { storage: string; checksumSha256: boolean };
      expect(config).toMatchObject({ storage: 'external', checksumSha256: true });

      const name = fragmentName();
      const bytes = randomBytes(1000);
      const put = await presignOne(external.appUrl, ALICE, 'put', { name, sha256: sha256Base64(bytes), size: bytes.length });
      expect((await send(put, bytes)).status).toBe(200);
      // Same bucket, same key scheme: the embedded stack's URLs read it back.
      const get = await send(await presignOne(stack.appUrl, ALICE, 'get', { name }));
      expect(Buffer.from(await get.arrayBuffer()).equals(bytes)).toBe(true);
    } finally {
      await external.close();
      await temp.remove();
    }
  });
});
