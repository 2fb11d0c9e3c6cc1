import * as oauth from 'oauth4webapi';
import type { VaultDb } from '../storage/open-vault-db.js';
import { clearOidcSession, getOidcSession, saveOidcSession } from '../storage/settings-repository.js';
import type { SecretSealer } from './cloud-connection.js';
import { ServiceError } from './service-error.js';

/**
 * Signing in to the presign service with OpenID Connect (Authorization Code + PKCE, oauth4webapi), for
 * a public client in the browser. The tokens (access, refresh, expiry) are kept sealed under the vault
 * key (so under the passphrase lock too) in the settings store; the access token is refreshed a minute
 * before it expires; a session that can no longer be refreshed (expired, revoked) is dropped and every
 * caller gets SIGN_IN_REQUIRED ("sign in again").
 *
 * The one secret kept outside the vault is the PKCE verifier of a sign-in in progress (sessionStorage of
 * this tab, removed when the provider sends the person back): it is useless without the code, which only
 * the provider's redirect to this origin carries.
 */
export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string;
  /** Resource indicator (RFC 8707) for the presign API, when the provider needs one. */
  readonly resource: string | null;
}

interface SessionTokens {
  readonly accessToken: string;
  readonly refreshToken: string | null;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** Epoch ms, when it was issued: short-lived tokens are refreshed a quarter of their life early. */
  readonly issuedAt: number;
}

interface PendingSignIn {
  readonly issuer: string;
  readonly clientId: string;
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly redirectUri: string;
}

const PENDING_KEY = 'ehrv-oidc-pending';
const SECRET_NAME = 'oidc-session';
/** Refresh this long before the access token expires (at most; a quarter of its lifetime for short ones). */
const REFRESH_MARGIN_MS = 60_000;

function signInRequired(message: string, cause?: unknown): ServiceError {
  return new ServiceError('SIGN_IN_REQUIRED', message, {}, { retryable: false, cause });
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

/** oauth4webapi refuses http:// unless told; allowed only for a provider on this machine (development). */
function requestOptions(issuer: URL): { [oauth.allowInsecureRequests]?: boolean } {
  return issuer.protocol === 'http:' && isLoopback(issuer) ? { [oauth.allowInsecureRequests]: true } : {};
}

export class OidcSession {
  private readonly servers = new Map<string, Promise<oauth.AuthorizationServer>>();
  /** In memory while unlocked: saves an unseal per presign request. */
  private cached: SessionTokens | undefined;
  private refreshing: Promise<SessionTokens> | undefined;

  constructor(
    private readonly db: VaultDb,
    private readonly secrets: SecretSealer,
    private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> = sessionStorage,
  ) {}

  private server(config: OidcConfig): Promise<oauth.AuthorizationServer> {
    let found = this.servers.get(config.issuer);
    if (found === undefined) {
      const issuer = new URL(config.issuer);
      found = (async () => processDiscoveryResponseOrThrow(issuer, await oauth.discoveryRequest(issuer, { ...requestOptions(issuer), algorithm: 'oidc' })))();
      found.catch(() => this.servers.delete(config.issuer));
      this.servers.set(config.issuer, found);
    }
    return found;
  }

  /** The authorization URL to send the person to; remembers the PKCE verifier for the way back. */
  async beginSignIn(config: OidcConfig, redirectUri: string): Promise<string> {
    const as = await this.server(config);
    if (as.authorization_endpoint === undefined) throw new ServiceError('CLOUD_NOT_CONFIGURED', 'The identity provider has no authorization endpoint.', {}, { retryable: false });
    const verifier = oauth.generateRandomCodeVerifier();
    const pending: PendingSignIn = { issuer: config.issuer, clientId: config.clientId, verifier, state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), redirectUri };
    this.storage.setItem(PENDING_KEY, JSON.stringify(pending));
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', config.scopes);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', pending.state);
    url.searchParams.set('nonce', pending.nonce);
    // offline_access (a refresh token) needs consent with most providers.
    if (config.scopes.split(' ').includes('offline_access')) url.searchParams.set('prompt', 'consent');
    if (config.resource !== null) url.searchParams.set('resource', config.resource);
    return url.href;
  }

  /** Whether `url` is the provider sending the person back to a sign-in this tab started. */
  isCallback(url: URL): boolean {
    return (url.searchParams.has('code') || url.searchParams.has('error')) && url.searchParams.has('state') && this.storage.getItem(PENDING_KEY) !== null;
  }

  /** Exchanges the code for tokens and keeps them sealed. Needs the vault unlocked. */
  async completeSignIn(config: OidcConfig, url: URL): Promise<void> {
    const raw = this.storage.getItem(PENDING_KEY);
    this.storage.removeItem(PENDING_KEY);
    if (raw === null) throw signInRequired('No sign-in was in progress in this tab.');
    const pending = JSON.parse(raw) as PendingSignIn;
    if (pending.issuer !== config.issuer || pending.clientId !== config.clientId) throw signInRequired('The sign-in was started for another identity provider.');
    const as = await this.server(config);
    const client: oauth.Client = { client_id: config.clientId };
    const issuer = new URL(config.issuer);
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, client, url, pending.state);
    } catch (error) {
      throw signInRequired(`The identity provider did not sign you in: ${error instanceof Error ? error.message : String(error)}.`, error);
    }
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, pending.redirectUri, pending.verifier, {
      ...requestOptions(issuer),
      ...(config.resource !== null ? { additionalParameters: { resource: config.resource } } : {}),
    });
    let result: oauth.TokenEndpointResponse;
    try {
      result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: config.scopes.split(' ').includes('openid') });
    } catch (error) {
      throw signInRequired(`Signing in failed: ${error instanceof Error ? error.message : String(error)}.`, error);
    }
    await this.store(config, result, null);
  }

  private async store(config: OidcConfig, result: oauth.TokenEndpointResponse, previousRefresh: string | null): Promise<SessionTokens> {
    const now = Date.now();
    const tokens: SessionTokens = {
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? previousRefresh,
      expiresAt: now + (typeof result.expires_in === 'number' ? result.expires_in : 300) * 1000,
      issuedAt: now,
    };
    await saveOidcSession(this.db, { issuer: config.issuer, clientId: config.clientId, sealed: await this.secrets.sealSecret(SECRET_NAME, JSON.stringify(tokens)), updatedAt: Date.now() });
    this.cached = tokens;
    return tokens;
  }

  private async load(config: OidcConfig): Promise<SessionTokens | undefined> {
    if (this.cached !== undefined) return this.cached;
    const stored = await getOidcSession(this.db);
    if (stored === undefined || stored.issuer !== config.issuer || stored.clientId !== config.clientId) return undefined;
    this.cached = JSON.parse(await this.secrets.openSecret(SECRET_NAME, stored.sealed)) as SessionTokens;
    return this.cached;
  }

  async signedIn(config: OidcConfig): Promise<boolean> {
    return (await this.load(config)) !== undefined;
  }

  /** A valid access token, refreshed when close to expiry; SIGN_IN_REQUIRED when there is none to be had. */
  async accessToken(config: OidcConfig): Promise<string> {
    const tokens = await this.load(config);
    if (tokens === undefined) throw signInRequired('You are not signed in to the presign service.');
    const margin = Math.min(REFRESH_MARGIN_MS, (tokens.expiresAt - tokens.issuedAt) / 4);
    if (tokens.expiresAt - margin > Date.now()) return tokens.accessToken;
    this.refreshing ??= this.refresh(config, tokens).finally(() => (this.refreshing = undefined));
    return (await this.refreshing).accessToken;
  }

  /** After the service refused the access token (401): use it no more. */
  forgetAccessToken(): void {
    if (this.cached !== undefined) this.cached = { ...this.cached, expiresAt: 0 };
  }

  private async refresh(config: OidcConfig, tokens: SessionTokens): Promise<SessionTokens> {
    if (tokens.refreshToken === null) {
      await this.drop();
      throw signInRequired('Your sign-in has expired. Sign in again.');
    }
    const as = await this.server(config);
    const client: oauth.Client = { client_id: config.clientId };
    let response: Response;
    try {
      response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refreshToken, {
        ...requestOptions(new URL(config.issuer)),
        ...(config.resource !== null ? { additionalParameters: { resource: config.resource } } : {}),
      });
    } catch (error) {
      // Offline or the provider unreachable: not the session's end.
      throw new ServiceError('NETWORK_ERROR', 'The identity provider could not be reached to renew the sign-in.', {}, { cause: error });
    }
    try {
      return await this.store(config, await oauth.processRefreshTokenResponse(as, client, response), tokens.refreshToken);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError) {
        // invalid_grant and friends: the session was revoked or has ended.
        await this.drop();
        throw signInRequired('Your sign-in has ended (expired or revoked). Sign in again.', error);
      }
      throw new ServiceError('PRESIGN_UNAVAILABLE', 'The identity provider did not renew the sign-in.', {}, { cause: error });
    }
  }

  private async drop(): Promise<void> {
    this.cached = undefined;
    await clearOidcSession(this.db);
  }

  /** Forgets the session on this device and revokes its refresh token at the provider (best effort). */
  async signOut(config: OidcConfig): Promise<void> {
    const tokens = await this.load(config).catch(() => undefined);
    await this.drop();
    if (tokens?.refreshToken == null) return;
    try {
      const as = await this.server(config);
      if (as.revocation_endpoint === undefined) return;
      await oauth.revocationRequest(as, { client_id: config.clientId }, oauth.None(), tokens.refreshToken, requestOptions(new URL(config.issuer)));
    } catch {
      // The local session is gone either way.
    }
  }

  /** Lock: the unsealed tokens leave memory with the vault key. */
  lock(): void {
    this.cached = undefined;
  }
}

async function processDiscoveryResponseOrThrow(issuer: URL, response: Response): Promise<oauth.AuthorizationServer> {
  try {
    return await oauth.processDiscoveryResponse(issuer, response);
  } catch (error) {
    throw new ServiceError('PRESIGN_UNAVAILABLE', `The identity provider ${issuer.origin} did not describe itself (OpenID discovery).`, {}, { cause: error });
  }
}
