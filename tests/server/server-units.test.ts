import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../server/api-error.js';
import { stackOptionsFromEnv } from '../../server/env-config.js';
import { bucketCorsXml } from '../../server/local-s3.js';
import { objectKey } from '../../server/object-key.js';
import { createPresignRequestParser } from '../../server/presign-request.js';
import { TokenBucketLimiter } from '../../server/rate-limiter.js';
import { contentSecurityPolicy } from '../../server/security-headers.js';
import { ConfigError } from '../../server/config-error.js';
import { resolveStackOptions } from '../../server/stack-options.js';
import { createTokenStore } from '../../server/token-store.js';

describe('token bucket', () => {
  it('allows a burst, then refills at the configured rate', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ burst: 2, perSecond: 0.5, now: () => now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(limiter.take('b').allowed).toBe(true);
    now = 2_000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });
});

describe('token store', () => {
  it('maps tokens to users and ignores unknown ones', () => {
    const store = createTokenStore({ 'token-aaaaaaaaaaaaaaaa': 'alice' });
    expect(store.lookup('token-aaaaaaaaaaaaaaaa')?.userId).toBe('alice');
    expect(store.lookup('token-aaaaaaaaaaaaaaab')).toBeUndefined();
    expect(store.lookup('')).toBeUndefined();
  });

  it('rejects short tokens and unsafe user ids', () => {
    expect(() => createTokenStore({ short: 'alice' })).toThrow(/16-256/);
    expect(() => createTokenStore({ 'token-aaaaaaaaaaaaaaaa': '../bob' })).toThrow(/user id/);
  });
});

describe('object keys', () => {
  it('always carry the user prefix and refuse anything but plain names', () => {
    expect(objectKey('alice', '0123456789abcdef')).toBe('users/alice/fragments/0123456789abcdef');
    expect(() => objectKey('alice', '../0123456789abcdef')).toThrow();
    expect(() => objectKey('a/b', '0123456789abcdef')).toThrow();
  });
});

describe('presign request parser', () => {
  const parse = createPresignRequestParser({ maxObjects: 4, maxObjectBytes: 100 });

  it('returns the validated request', () => {
    const sha256 = Buffer.alloc(32, 7).toString('base64');
    expect(parse({ operation: 'put', objects: [{ name: 'a'.repeat(16), sha256, size: 100 }] })).toEqual({
      operation: 'put',
      objects: [{ name: 'a'.repeat(16), sha256, size: 100 }],
    });
  });

  it('uses the configured object limit', () => {
    const objects = Array.from({ length: 5 }, (_, i) => ({ name: `${'a'.repeat(15)}${i}` }));
    expect(() => parse({ operation: 'get', objects })).toThrow(expect.objectContaining({ code: 'TOO_MANY_OBJECTS', status: 400 }) as ApiError);
  });
});

describe('configuration', () => {
  it('reads the environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ehrv-env-'));
    try {
      await writeFile(join(dir, 'tokens.json'), JSON.stringify({ 'file-token-0123456789': 'alice' }));
      const options = stackOptionsFromEnv({
        APP_PORT: '9000',
        S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com',
        S3_REGION: 'eu-west-1',
        S3_BUCKET: 'my-vault',
        S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        S3_SECRET_ACCESS_KEY: 'secret',
        PRESIGN_EXPIRES_SECONDS: '300',
        APP_ORIGIN: 'https://vault.example.org, http://127.0.0.1:4173',
        EHRV_TOKENS_FILE: 'tokens.json',
        RATE_LIMIT_BURST: '5',
      }, dir);
      const resolved = resolveStackOptions(options);
      expect(resolved.appPort).toBe(9000);
      expect(resolved.bucket).toBe('my-vault');
      expect(resolved.external).toMatchObject({ endpoint: 'https://s3.eu-west-1.amazonaws.com', region: 'eu-west-1', forcePathStyle: false });
      expect(resolved.presignExpiresSeconds).toBe(300);
      expect(resolved.appOrigins).toEqual(['https://vault.example.org', 'http://127.0.0.1:4173']);
      expect(resolved.tokens).toEqual({ 'file-token-0123456789': 'alice' });
      expect(resolved.devToken).toBeNull();
      expect(resolved.rateLimit).toEqual({ burst: 5, perSecond: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('defaults to the embedded store with a generated dev token', () => {
    const resolved = resolveStackOptions(stackOptionsFromEnv({}));
    expect(resolved.external).toBeUndefined();
    expect(resolved.localS3.port).toBe(4568);
    expect(resolved.appPort).toBe(8080);
    expect(resolved.presignExpiresSeconds).toBe(900);
    expect(resolved.devToken).toMatch(/^dev-/);
    expect(() => stackOptionsFromEnv({ S3_CHECKSUM_SHA256: 'false' })).toThrow(/no longer supported/);
    expect(resolveStackOptions(stackOptionsFromEnv({ S3_ENDPOINT: 'http://minio:9000' })).external?.forcePathStyle).toBe(true);
  });

  it('reads OpenID Connect settings; no dev token is generated with them', () => {
    const resolved = resolveStackOptions(stackOptionsFromEnv({ OIDC_ISSUER: 'https://login.example.org/realms/ehr', OIDC_AUDIENCE: 'ehr-api, ehr-api-2', OIDC_USER_CLAIM: 'email', OIDC_ALGORITHMS: 'ES256', OIDC_CLIENT_ID: 'ehr-app' }));
    expect(resolved.oidc).toMatchObject({ issuer: 'https://login.example.org/realms/ehr', audience: ['ehr-api', 'ehr-api-2'], userClaim: 'email', algorithms: ['ES256'], clientId: 'ehr-app', clockToleranceSeconds: 30 });
    expect(resolved.devToken).toBeNull();
    expect(() => stackOptionsFromEnv({ OIDC_ISSUER: 'https://login.example.org' })).toThrow(/OIDC_AUDIENCE/);
    expect(() => resolveStackOptions(stackOptionsFromEnv({ OIDC_ISSUER: 'http://login.example.org', OIDC_AUDIENCE: 'a' }))).toThrow(/https/);
    expect(() => resolveStackOptions(stackOptionsFromEnv({ OIDC_ISSUER: 'https://login.example.org', OIDC_AUDIENCE: 'a', OIDC_ALGORITHMS: 'HS256' }))).toThrow(/not allowed/);
    expect(() => resolveStackOptions(stackOptionsFromEnv({ OIDC_ISSUER: 'https://login.example.org', OIDC_AUDIENCE: 'a', OIDC_ALGORITHMS: 'none' }))).toThrow(/not allowed/);
  });

  it('reports bad values clearly', () => {
    expect(() => stackOptionsFromEnv({ EHRV_TOKENS: '{not json' })).toThrow(ConfigError);
    expect(() => resolveStackOptions(stackOptionsFromEnv({ PRESIGN_EXPIRES_SECONDS: '0' }))).toThrow(/presign expiry/);
    expect(() => resolveStackOptions(stackOptionsFromEnv({ APP_ORIGIN: 'http://x.example/path' }))).toThrow(/origin/);
    expect(() => stackOptionsFromEnv({ S3_FORCE_PATH_STYLE: 'maybe', S3_ENDPOINT: 'http://x' })).toThrow(/true or false/);
    expect(() => resolveStackOptions({ s3: { endpoint: 'http://x', accessKeyId: 'only-id' } })).toThrow(/both/);
  });
});

describe('headers and bucket CORS', () => {
  it('builds the CSP with the S3 origin in connect-src', () => {
    expect(contentSecurityPolicy(['http://127.0.0.1:4568'])).toContain("connect-src 'self' http://127.0.0.1:4568;");
  });

  it('writes every app origin into the bucket CORS rule', () => {
    const xml = bucketCorsXml(['http://127.0.0.1:8080', 'http://localhost:8080']);
    expect(xml).toContain('<AllowedOrigin>http://127.0.0.1:8080</AllowedOrigin>');
    expect(xml).toContain('<AllowedOrigin>http://localhost:8080</AllowedOrigin>');
    for (const method of ['GET', 'PUT', 'HEAD', 'DELETE']) expect(xml).toContain(`<AllowedMethod>${method}</AllowedMethod>`);
    expect(xml).toContain('<ExposeHeader>ETag</ExposeHeader>');
  });
});
