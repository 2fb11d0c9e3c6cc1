/**
 * OpenID Connect access tokens at the presign service (issue #14), against a real OpenID provider
 * (oidc-provider, tests/server/oidc-test-provider.ts): sign in with Authorization Code + PKCE, presign
 * with the JWT access token, refresh it; an expired token, a token for another audience, a token signed
 * with a foreign key, `alg: none`/HMAC tokens and a revoked session are refused with "sign in again".
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcUserId } from '../../server/oidc-auth.js';
import { startStack, type Stack } from '../../server/start.js';
import { fragmentName, makeTempDir, presignRaw, putFields, send, type ErrorResponse, type PresignResponse } from './helpers.js';
import { API_AUDIENCE, OTHER_AUDIENCE, startTestProvider, type TestProvider } from './oidc-test-provider.js';

const REDIRECT = 'http://127.0.0.1:1/callback';
const STATIC = 'static-token-0123456789abcdef';
const CLOCK_TOLERANCE_S = 0;

describe('OpenID Connect access tokens', () => {
  let provider: TestProvider;
  let stack: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    provider = await startTestProvider([REDIRECT]);
    const temp = await makeTempDir('oidc');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: { [STATIC]: 'carol' },
      oidc: { issuer: provider.issuer, audience: API_AUDIENCE, clientId: 'ehr-vault-app', clockToleranceSeconds: CLOCK_TOLERANCE_S, resource: API_AUDIENCE },
      authFailureLimit: { burst: 1_000, perSecond: 1_000 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await provider?.close();
    await removeTemp?.();
  });

  const presignHead = (token: string) => presignRaw(stack.appUrl, { token, body: JSON.stringify({ operation: 'head', objects: [{ name: fragmentName() }] }) });
  const errorOf = async (response: Response) => ({ status: response.status, ...((await response.json()) as ErrorResponse).error, wwwAuthenticate: response.headers.get('www-authenticate') });

  it('tells the app how to sign in (and serves no dev token)', async () => {
    const config = (await (await fetch(`${stack.appUrl}/api/config`)).json()) as Record<string, unknown>;
    expect(config.oidc).toEqual({ issuer: provider.issuer, clientId: 'ehr-vault-app', scopes: 'openid offline_access', resource: API_AUDIENCE });
    expect(config.defaultToken).toBeNull();
  });

  it('signs in with Authorization Code + PKCE; the access token presigns inside the user\'s own prefix, and the bytes round-trip', async () => {
    const tokens = await provider.signIn({ login: 'alice@hospital', redirectUri: REDIRECT });
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: provider.issuer, aud: API_AUDIENCE, sub: 'alice@hospital' });
    const name = fragmentName();
    const bytes = randomBytes(300);
    const response = await presignRaw(stack.appUrl, { token: tokens.access_token, body: JSON.stringify({ operation: 'put', objects: [{ name, ...putFields(bytes) }] }) });
    expect(response.status).toBe(200);
    const put = ((await response.json()) as PresignResponse).urls[0]!;
    const user = oidcUserId(provider.issuer, 'alice@hospital');
    expect(user).toMatch(/^oidc-[0-9a-f]{32}$/);
    expect(new URL(put.url).pathname).toBe(`/ehr-vault/users/${user}/fragments/${name}`);
    expect((await send(put, bytes)).status).toBe(200);
    // Another person's token addresses another prefix.
    const bob = await provider.signIn({ login: 'bob', redirectUri: REDIRECT });
    const bobUrl = ((await (await presignRaw(stack.appUrl, { token: bob.access_token, body: JSON.stringify({ operation: 'get', objects: [{ name }] }) })).json()) as PresignResponse).urls[0]!;
    expect(new URL(bobUrl.url).pathname).toBe(`/ehr-vault/users/${oidcUserId(provider.issuer, 'bob')}/fragments/${name}`);
    expect((await send(bobUrl)).status).toBe(404);
    // Static tokens still work alongside (development).
    expect((await presignHead(STATIC)).status).toBe(200);
  });

  it('refreshes: a new access token from the refresh token works', async () => {
    const tokens = await provider.signIn({ login: 'dana', redirectUri: REDIRECT });
    expect(tokens.refresh_token).toBeDefined();
    const refreshed = await provider.refresh(tokens.refresh_token!);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token?: string };
    expect(next.access_token).not.toBe(tokens.access_token);
    expect((await presignHead(next.access_token)).status).toBe(200);
  });

  it('refuses an expired access token with TOKEN_EXPIRED and "sign in again"', async () => {
    // Long enough to be used once on a loaded machine; then wait until its own `exp` has passed.
    provider.accessTokenTtl = 6;
    try {
      const tokens = await provider.signIn({ login: 'erin', redirectUri: REDIRECT });
      expect((await presignHead(tokens.access_token)).status).toBe(200);
      const { exp } = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number };
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, (exp + CLOCK_TOLERANCE_S) * 1000 + 200 - Date.now())));
      const error = await errorOf(await presignHead(tokens.access_token));
      expect(error).toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
      expect(error.hint).toMatch(/Sign in again/);
      expect(error.wwwAuthenticate).toContain('error="invalid_token"');
    } finally {
      provider.accessTokenTtl = 300;
    }
  });

  it('refuses a token issued for another audience', async () => {
    const tokens = await provider.signIn({ login: 'frank', redirectUri: REDIRECT, resource: OTHER_AUDIENCE });
    expect(decodeJwt(tokens.access_token).aud).toBe(OTHER_AUDIENCE);
    const error = await errorOf(await presignHead(tokens.access_token));
    expect(error).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    expect(error.message).toContain('"aud"');
    expect(error.hint).toMatch(/Sign in again/);
  });

  it('refuses a token signed with a foreign key, alg "none" or HMAC, or from another issuer', async () => {
    const genuine = await provider.signIn({ login: 'gina', redirectUri: REDIRECT });
    const claims = decodeJwt(genuine.access_token);
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const forge = (header: Record<string, unknown>, payload: Record<string, unknown> = claims) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header }).sign(privateKey);
    // Same claims, our own key, the provider's kid (so the service looks it up and the signature fails) or an unknown one.
    for (const token of [await forge({ kid: 'test-es256' }), await forge({ kid: 'attacker' }), await forge({ kid: 'test-es256' }, { ...claims, iss: 'http://127.0.0.1:9/evil' })]) {
      expect(await errorOf(await presignHead(token))).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    }
    const [, body] = genuine.access_token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${body}.AA`;
    expect(await errorOf(await presignHead(none))).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    const jwk = await exportJWK(publicKey);
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'test-es256' }).sign(new TextEncoder().encode(JSON.stringify(jwk)));
    expect(await errorOf(await presignHead(hmac))).toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    // The genuine one still works.
    expect((await presignHead(genuine.access_token)).status).toBe(200);
  });

  it('a revoked session cannot be refreshed (the app then asks to sign in again)', async () => {
    const tokens = await provider.signIn({ login: 'hugo', redirectUri: REDIRECT });
    await provider.revoke(tokens.refresh_token!);
    const refreshed = await provider.refresh(tokens.refresh_token!);
    expect(refreshed.status).toBe(400);
    expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant');
  });
});
