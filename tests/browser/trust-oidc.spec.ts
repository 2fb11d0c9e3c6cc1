/**
 * OpenID Connect end to end (issue #14): the app signs in at a real local provider (oidc-provider, its
 * login and consent pages) with Authorization Code + PKCE, protects and uploads a record with the access
 * token, is reloaded and opens it again. Then the session is revoked at the provider: once the access
 * token runs out, the next upload cannot renew it and the app says to sign in again. The tokens are never
 * in IndexedDB in the clear.
 */
import { expect, test, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../../server/start.js';
import { API_AUDIENCE, CLIENT_ID, startTestProvider, type TestProvider } from '../server/oidc-test-provider.js';
import { dumpIndexedDb, openSharedThroughUi, protectThroughUi } from './trust-helpers.js';
import { skipIntro } from './app-helpers.js';

const SEQUENCE_KEY = 'Hm6$Pz9!Qw';
/** Short-lived access tokens, so that "expired" happens within the test. */
const ACCESS_TOKEN_TTL = 8;

let provider: TestProvider;
let stack: Stack;
let dataDir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test.beforeAll(async () => {
  if (!existsSync(new URL('../../dist/index.html', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` first.');
  const appPort = await freePort();
  provider = await startTestProvider([`http://127.0.0.1:${appPort}/`]);
  provider.accessTokenTtl = ACCESS_TOKEN_TTL;
  dataDir = mkdtempSync(join(tmpdir(), 'ehrv-oidc-s3-'));
  stack = await startStack({
    appPort,
    localS3: { port: 0, dataDir },
    oidc: { issuer: provider.issuer, audience: API_AUDIENCE, clientId: CLIENT_ID, scopes: 'openid offline_access presign', resource: API_AUDIENCE, clockToleranceSeconds: 0 },
    rateLimit: { burst: 1000, perSecond: 1000 },
    log: () => {},
  });
});

test.afterAll(async () => {
  await stack?.close();
  await provider?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Every token the provider's token endpoint handed to the page. */
function watchTokens(page: Page): { refreshTokens: string[]; accessTokens: string[] } {
  const seen = { refreshTokens: [] as string[], accessTokens: [] as string[] };
  page.on('response', async (response) => {
    if (!response.url().startsWith(`${provider.issuer}/token`) || response.request().method() !== 'POST') return;
    const body = (await response.json().catch(() => ({}))) as { refresh_token?: string; access_token?: string };
    if (body.refresh_token) seen.refreshTokens.push(body.refresh_token);
    if (body.access_token) seen.accessTokens.push(body.access_token);
  });
  return seen;
}

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('sign in at the provider, protect, upload, reload, open; a revoked session gets "sign in again"', async ({ page }) => {
  const tokens = watchTokens(page);

  // Not signed in: the app says so and offers to sign in.
  await page.goto(`${stack.appUrl}/#/settings`);
  const account = page.locator('[data-account]');
  await expect(account).toHaveAttribute('data-account', 'signed-out');
  await account.getByRole('button', { name: 'Sign in' }).click();

  // The provider's own pages: login, then consent.
  await page.waitForURL(new RegExp(`^${provider.issuer}/interaction/`));
  await page.locator('input[name="login"]').fill('alice@hospital');
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();

  // Back in the app, signed in; the code is gone from the URL.
  await page.waitForURL(`${stack.appUrl}/#/settings`);
  await expect(page.locator('[data-notice]')).toContainText('Signed in');
  await expect(page.locator('[data-account]')).toHaveAttribute('data-account', 'signed-in');
  expect(page.url()).not.toContain('code=');
  expect(tokens.accessTokens.length).toBeGreaterThan(0);

  // Protect and upload with the access token.
  const file = { name: 'referral.txt', mimeType: 'text/plain', buffer: Buffer.from('referral letter for alice') };
  const { shareText } = await protectThroughUi(page, stack.appUrl, file, SEQUENCE_KEY, 'synced');

  // No token is in IndexedDB in the clear.
  const dump = await dumpIndexedDb(page);
  const haystack = dump.items.flatMap((item) => [item.json, ...item.binaries.map((b) => b.toString('latin1'))]).join('\n');
  for (const token of [...tokens.accessTokens, ...tokens.refreshTokens]) expect(haystack.includes(token)).toBe(false);
  expect(dump.items.some((item) => item.store === 'settings' && item.key === '"oidc-session"')).toBe(true);

  // Reload: still signed in (the sealed session), and the record opens from the cloud.
  await page.reload();
  await openSharedThroughUi(page, stack.appUrl, shareText, SEQUENCE_KEY);
  const save = page.getByRole('link', { name: 'Save the original file' });
  await expect(save).toBeVisible({ timeout: 60_000 });

  // The session is revoked at the provider (as an administrator or "sign out everywhere" would).
  expect(tokens.refreshTokens.length).toBeGreaterThan(0);
  await provider.revoke(tokens.refreshTokens.at(-1)!);
  // Once the access token has run out, the app cannot renew it: the next upload says to sign in again.
  await page.waitForTimeout(ACCESS_TOKEN_TTL * 1000 + 500);
  const second = { name: 'lab-results.txt', mimeType: 'text/plain', buffer: Buffer.from('lab results') };
  const { recordId } = await protectThroughUi(page, stack.appUrl, second, SEQUENCE_KEY, 'stored');
  await page.goto(`${stack.appUrl}/#/records`);
  const item = page.locator(`li[data-record-id="${recordId}"]`);
  await expect(item).toContainText(/Sign in again/i, { timeout: 60_000 });
  await page.goto(`${stack.appUrl}/#/settings`);
  await expect(page.locator('[data-account]')).toHaveAttribute('data-account', 'signed-out');
});
