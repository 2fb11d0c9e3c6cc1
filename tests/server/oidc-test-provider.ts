/**
 * A real OpenID provider for tests (not a test file): oidc-provider on 127.0.0.1 with its development
 * login pages (any login name signs in), one public client using Authorization Code + PKCE, and JWT
 * access tokens for the presign API's audience (RFC 8707 resource indicators, RFC 9068 tokens).
 * `signIn` drives the whole browser flow with plain HTTP (cookies, redirects, the login and consent
 * forms), as a person in a browser would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export const API_AUDIENCE = 'https://ehr-vault.test/api';
export const OTHER_AUDIENCE = 'https://other-api.test';
export const CLIENT_ID = 'ehr-vault-app';

export interface TestProvider {
  readonly issuer: string;
  /** Lifetime of new access tokens, in seconds (changeable between sign-ins). */
  accessTokenTtl: number;
  signIn(options: { login: string; redirectUri: string; resource?: string; scope?: string }): Promise<TokenSet>;
  refresh(refreshToken: string, resource?: string): Promise<Response>;
  revoke(token: string): Promise<void>;
  close(): Promise<void>;
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in: number;
  token_type: string;
}

export async function startTestProvider(redirectUris: string[]): Promise<TestProvider> {
  let handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => res.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' };

  const state: { accessTokenTtl: number } = { accessTokenTtl: 300 };
  const provider = new Provider(issuer, {
    clients: [{ client_id: CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: redirectUris, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], id_token_signed_response_alg: 'ES256' }],
    jwks: { keys: [jwk] },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'presign'],
    cookies: { keys: [randomBytes(16).toString('hex')] },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    issueRefreshToken: () => true,
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'presign',
          audience: resource,
          accessTokenTTL: state.accessTokenTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('[oidc-provider]', error));
  handler = provider.callback();

  const tokenRequest = (body: Record<string, string>) =>
    fetch(`${issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });

  return {
    issuer,
    get accessTokenTtl() {
      return state.accessTokenTtl;
    },
    set accessTokenTtl(value: number) {
      state.accessTokenTtl = value;
    },
    async signIn({ login, redirectUri, resource = API_AUDIENCE, scope = 'openid offline_access presign' }) {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const auth = new URL(`${issuer}/auth`);
      for (const [k, v] of Object.entries({ client_id: CLIENT_ID, redirect_uri: redirectUri, response_type: 'code', scope, code_challenge: challenge, code_challenge_method: 'S256', state: 'st', resource, prompt: 'consent' })) auth.searchParams.set(k, v);
      const cookies = new Map<string, string>();
      const remember = (response: Response) => {
        for (const cookie of response.headers.getSetCookie()) {
          const [pair] = cookie.split(';');
          const eq = pair!.indexOf('=');
          cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
        }
      };
      const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      let url = auth.href;
      let init: RequestInit = {};
      for (let step = 0; step < 20; step += 1) {
        const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), cookie: cookieHeader() } });
        remember(response);
        const location = response.headers.get('location');
        if (location !== null) {
          const next = new URL(location, url);
          if (next.href.startsWith(redirectUri)) {
            const code = next.searchParams.get('code');
            if (code === null) throw new Error(`sign-in failed: ${next.search}`);
            const tokens = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: verifier });
            if (!tokens.ok) throw new Error(`token request failed: ${tokens.status} ${await tokens.text()}`);
            return (await tokens.json()) as TokenSet;
          }
          url = next.href;
          init = {};
          continue;
        }
        // A login or consent page: submit its form as a person would.
        const html = await response.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
        if (action === undefined || prompt === undefined) throw new Error(`unexpected page at ${url}: ${response.status} ${html.slice(0, 200)}`);
        url = new URL(action.replace(/&amp;/g, '&'), url).href;
        const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any' } : { prompt };
        init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() };
      }
      throw new Error('sign-in did not finish');
    },
    refresh(refreshToken, resource = API_AUDIENCE) {
      return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, resource });
    },
    async revoke(token) {
      const response = await fetch(`${issuer}/token/revocation`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: CLIENT_ID }) });
      if (!response.ok) throw new Error(`revocation failed: ${response.status}`);
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
