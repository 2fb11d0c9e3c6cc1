/**
 * Object naming. The client sends only a fragment name (lowercase base32/hex of an HMAC);
 * the server alone builds the full key, so a user can never address another user's objects.
 */
export const OBJECT_NAME_PATTERN = /^[a-z0-9]{16,64}$/;

/** User ids become part of the key prefix, so they are restricted to a path-safe alphabet. */
export const USER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function userPrefix(userId: string): string {
  if (!USER_ID_PATTERN.test(userId)) throw new Error(`invalid user id: ${JSON.stringify(userId)}`);
  return `users/${userId}/fragments/`;
}

export function objectKey(userId: string, name: string): string {
  if (!OBJECT_NAME_PATTERN.test(name)) throw new Error(`invalid object name: ${JSON.stringify(name)}`);
  return userPrefix(userId) + name;
}
