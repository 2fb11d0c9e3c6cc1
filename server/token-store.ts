import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { USER_ID_PATTERN } from './object-key.js';

/** Printable ASCII without spaces, long enough to be unguessable. */
const TOKEN_PATTERN = /^[\x21-\x7e]{16,256}$/;

export type TokenMap = Record<string, string>;

export interface TokenIdentity {
  userId: string;
  /** Stable, non-secret id of the token (a digest prefix); keys the rate limiter and logs. */
  tokenId: string;
}

export interface TokenStore {
  /** Who the bearer token belongs to, or undefined for an unknown token. */
  lookup(token: string): TokenIdentity | undefined;
  /** Number of distinct tokens accepted. */
  readonly size: number;
}

export const DEV_USER_ID = 'dev';

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Validates a token→userId map; `source` names its origin in error messages (tokens are never echoed). */
export function validateTokenMap(value: unknown, source: string): TokenMap {
  const expected = 'expected a JSON object {"<token>": "<userId>"}';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${source}: ${expected}`);
  const tokens: TokenMap = {};
  Object.entries(value).forEach(([token, userId], index) => {
    if (!TOKEN_PATTERN.test(token)) {
      throw new ConfigError(`${source}: token #${index + 1} must be 16-256 printable ASCII characters without spaces`);
    }
    if (typeof userId !== 'string' || !USER_ID_PATTERN.test(userId)) {
      throw new ConfigError(`${source}: the user id of token #${index + 1} must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(userId)}`);
    }
    tokens[token] = userId;
  });
  return tokens;
}

export function parseTokenMapJson(json: string, source: string): TokenMap {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ConfigError(`${source}: not valid JSON; expected {"<token>": "<userId>"}`);
  }
  return validateTokenMap(value, source);
}

export function readTokenMapFile(path: string): TokenMap {
  return parseTokenMapJson(readFileSync(path, 'utf8'), path);
}

export function generateDevToken(): string {
  return `dev-${randomBytes(24).toString('base64url')}`;
}

/**
 * Tokens are kept only as SHA-256 digests and looked up by digest, so the comparison time
 * does not depend on how many leading characters of a guess are right.
 */
export function createTokenStore(tokens: TokenMap): TokenStore {
  const byDigest = new Map<string, string>();
  for (const [token, userId] of Object.entries(validateTokenMap(tokens, 'tokens'))) {
    byDigest.set(digest(token), userId);
  }
  return {
    lookup(token) {
      if (!TOKEN_PATTERN.test(token)) return undefined;
      const tokenDigest = digest(token);
      const userId = byDigest.get(tokenDigest);
      return userId === undefined ? undefined : { userId, tokenId: tokenDigest.slice(0, 16) };
    },
    size: byDigest.size,
  };
}
