import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';
import type { TokenIdentity, TokenStore } from './token-store.js';

/** Resolves `Authorization: Bearer <token>` to the user it belongs to, or throws 401. */
export function authenticate(req: IncomingMessage, tokens: TokenStore): TokenIdentity {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined) {
    throw new ApiError(401, 'MISSING_TOKEN', 'No bearer token was sent.',
      'Send the header "Authorization: Bearer <token>" (the dev token is printed by npm start and served at /api/config).',
      { 'www-authenticate': 'Bearer realm="ehr-vault"' });
  }
  const identity = tokens.lookup(token);
  if (identity === undefined) {
    throw new ApiError(401, 'INVALID_TOKEN', 'The bearer token is not recognised.',
      'Check the token; tokens are configured with EHRV_TOKENS or EHRV_TOKENS_FILE, and the dev token changes at every start unless EHRV_DEV_TOKEN is set.',
      { 'www-authenticate': 'Bearer realm="ehr-vault", error="invalid_token"' });
  }
  return identity;
}
