import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';
import { JWT_PATTERN, type OidcVerifier } from './oidc-auth.js';
import type { TokenIdentity, TokenStore } from './token-store.js';

/**
 * Resolves `Authorization: Bearer <token>` to the user it belongs to, or throws 401: a JWT goes to the
 * OpenID Connect verifier when one is configured, anything else to the static tokens.
 */
export async function authenticate(req: IncomingMessage, tokens: TokenStore, oidc?: OidcVerifier): Promise<TokenIdentity> {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined) {
    throw new ApiError(401, 'MISSING_TOKEN', 'No bearer token was sent.',
      oidc !== undefined
        ? 'Sign in, then send the header "Authorization: Bearer <access token>".'
        : 'Send the header "Authorization: Bearer <token>" (the dev token is printed by npm start and served at /api/config).',
      { 'www-authenticate': 'Bearer realm="ehr-vault"' });
  }
  if (oidc !== undefined && JWT_PATTERN.test(token)) return oidc.verify(token);
  const identity = tokens.lookup(token);
  if (identity === undefined) {
    throw new ApiError(401, 'INVALID_TOKEN', 'The bearer token is not recognised.',
      oidc !== undefined
        ? 'Sign in again; static tokens are configured with EHRV_TOKENS or EHRV_TOKENS_FILE.'
        : 'Check the token; tokens are configured with EHRV_TOKENS or EHRV_TOKENS_FILE, and the dev token changes at every start unless EHRV_DEV_TOKEN is set.',
      { 'www-authenticate': 'Bearer realm="ehr-vault", error="invalid_token"' });
  }
  return identity;
}
