/**
 * Issue #13: one link plus the sequence key opens a record across accounts and with no account, read-only;
 * the owner can withdraw it. A stack with two users (alice, bob) and no development token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { startStack, type Stack } from '../../server/start.js';
import { decodeShareText, toBase64Url } from '../../src/core/index.js';
import { protectInApp } from './app-flows.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url).pathname;
const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef01';
const KEY = 'Lk7#pQ2!mZ';

let stack: Stack;
let dataDir: string;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ehrv-share-'));
  stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir: join(dataDir, 's3') }, tokens: { [ALICE]: 'alice', [BOB]: 'bob' }, rateLimit: { burst: 1000, perSecond: 1000 }, log: () => {} });
});
test.afterAll(async () => {
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${stack.appUrl}/#/settings`);
  await page.locator('#presign').fill(`${stack.appUrl}/api/presign`);
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#token')).toHaveValue(token);
}

/** SHA-256 of the viewer canvas's RGBA pixels. */
async function viewerDigest(page: Page): Promise<string> {
  return page.locator('ev-image-viewer canvas').evaluate(async (canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return `${canvas.width}x${canvas.height}:${Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  });
}

async function openLink(browser: Browser, link: string, token?: string) {
  const context = await newAppContext(browser);
  const requests: string[] = [];
  context.on('request', (r) => requests.push(`${r.method()} ${r.url()} ${JSON.stringify(r.headers())} ${r.postData() ?? ''}`));
  const page = await context.newPage();
  if (token) await signIn(page, token);
  await page.goto(link);
  await expect(page.locator('[data-from-link]')).toBeVisible();
  // The part after # is gone from the address at once (and so from the history).
  await expect.poll(() => page.url()).not.toContain('ehrv1');
  await page.locator('#seq').fill(KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  return { context, page, requests };
}

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('a link opens read-only with no account and with another account, pixel for pixel; the owner withdraws it', async ({ page, browser }) => {
  await signIn(page, ALICE);
  const { recordId } = await protectInApp(page, stack.appUrl, PHOTO, KEY);
  const card = page.locator(`section[data-record-id="${recordId}"]`);
  await card.getByRole('button', { name: 'Make a share link' }).click();
  const linkBox = card.locator('ev-share-link');
  await linkBox.getByRole('button', { name: 'Show' }).click();
  const link = (await linkBox.locator('code[data-secret]').textContent())!.trim();
  expect(link.startsWith(`${stack.appUrl}/#ehrv1:`)).toBe(true);
  const info = decodeShareText(link);
  expect(info.recordId).toBe(recordId);
  expect(info.storageId).toMatch(/^[A-Za-z0-9_-]{80}$/);
  expect(link).not.toContain(KEY);
  await card.getByRole('button', { name: 'Open' }).count(); // the card stays on the page
  // What the owner sees: the record opened here, for the reference digest.
  await page.goto(`${stack.appUrl}/#/records`);
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Open' }).click();
  await page.locator('#seq').fill(KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  const original = await viewerDigest(page);

  const anonymous = await openLink(browser, link);
  await expect(anonymous.page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  expect(await viewerDigest(anonymous.page)).toBe(original);
  const hash = link.slice(link.indexOf('#') + 1);
  const keyText = hash.split(':')[2]!;
  for (const secret of [hash, keyText, toBase64Url(info.recordKey), KEY]) {
    expect(anonymous.requests.filter((r) => r.includes(secret)), secret).toEqual([]);
  }
  // Read-only: under "Records" with a badge, no cloud delete.
  await anonymous.page.goto(`${stack.appUrl}/#/records`);
  const item = anonymous.page.locator(`li[data-record-id="${recordId}"]`);
  await expect(item.locator('[data-shared-with-me]')).toBeVisible();
  await expect(item.getByRole('button', { name: 'Share' })).toHaveCount(0);
  await item.getByRole('button', { name: 'Forget…' }).click();
  await expect(anonymous.page.getByRole('button', { name: 'Delete here and in the cloud' })).toHaveCount(0);

  const bob = await openLink(browser, link, BOB);
  await expect(bob.page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  expect(await viewerDigest(bob.page)).toBe(original);
  // Bob's own token, naming alice's storage (from the link) and her object names (from the URLs his app
  // fetched): the presign service refuses PUT and DELETE with 403, and his app never asked for either.
  const names = [...new Set(bob.requests.flatMap((r) => /^GET \S*\/fragments\/([a-z0-9]{16,64})\?/.exec(r)?.[1] ?? []))];
  expect(names.length).toBeGreaterThan(0);
  expect(bob.requests.filter((r) => /^POST \S*\/api\/(shared\/)?presign /.test(r) && /"operation":"(put|delete)"/.test(r))).toEqual([]);
  const refused = await bob.page.evaluate(async ({ token, storageId, names }) => Promise.all(['put', 'delete'].map(async (operation) => {
    const objects = names.map((name) => (operation === 'put' ? { name, size: 1, sha256: 'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=' } : { name }));
    const response = await fetch('/api/presign', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ storageId, operation, objects }) });
    return `${response.status} ${((await response.json()) as { error?: { code?: string } }).error?.code ?? ''}`;
  })), { token: BOB, storageId: info.storageId!, names });
  expect(refused).toEqual(['403 NOT_YOUR_STORAGE', '403 NOT_YOUR_STORAGE']);
  await bob.context.close();

  // The owner withdraws: the objects are deleted from the cloud; the link now says so.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Records' }).click();
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Delete…' }).click();
  await page.getByRole('button', { name: 'Delete here and in the cloud' }).click();
  await expect(page.locator(`li[data-record-id="${recordId}"]`)).toHaveCount(0);
  const later = await newAppContext(browser);
  const latePage = await later.newPage();
  await expect.poll(async () => {
    await latePage.goto(link);
    await latePage.locator('#seq').fill(KEY);
    await latePage.getByRole('button', { name: 'Open', exact: true }).click();
    const alert = latePage.locator('[role="alert"][data-error-code]');
    await alert.waitFor({ timeout: 30_000 });
    return alert.getAttribute('data-error-code');
  }, { timeout: 60_000 }).toBe('FRAGMENT_NOT_IN_CLOUD');
  await expect(latePage.locator('[role="alert"]')).toContainText('withdrawn');
  await anonymous.context.close();
  await later.close();
});

test('withdraw, and protect again under a new key: the old link says withdrawn, a new link opens the same pixels', async ({ page, browser }) => {
  await signIn(page, ALICE);
  const { recordId } = await protectInApp(page, stack.appUrl, PHOTO, KEY);
  const card = page.locator(`section[data-record-id="${recordId}"]`);
  await card.getByRole('button', { name: 'Make a share link' }).click();
  await card.locator('ev-share-link').getByRole('button', { name: 'Show' }).click();
  const oldLink = (await card.locator('ev-share-link code[data-secret]').textContent())!.trim();
  await page.goto(`${stack.appUrl}/#/records`);
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Open' }).click();
  await page.locator('#seq').fill(KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  const original = await viewerDigest(page);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Records' }).click();
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Delete…' }).click();
  await page.getByRole('button', { name: 'Withdraw links, protect again under a new key' }).click();
  await expect(page.locator('[data-reprotected]')).toContainText('Withdrawn', { timeout: 60_000 });
  await expect(page.locator(`li[data-record-id="${recordId}"]`)).toHaveCount(0);
  const fresh = page.locator('li[data-record-id]').filter({ has: page.locator('ev-share-link') });
  const newId = (await fresh.getAttribute('data-record-id'))!;
  expect(newId).not.toBe(recordId);
  await expect(fresh.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  await fresh.getByRole('button', { name: 'Make a share link' }).click();
  await fresh.locator('ev-share-link').getByRole('button', { name: 'Show' }).click();
  const newLink = (await fresh.locator('ev-share-link code[data-secret]').textContent())!.trim();
  expect(decodeShareText(newLink).recordId).toBe(newId);

  const reader = await openLink(browser, newLink);
  await expect(reader.page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  expect(await viewerDigest(reader.page)).toBe(original);
  await reader.context.close();

  const late = await newAppContext(browser);
  const latePage = await late.newPage();
  await expect.poll(async () => {
    await latePage.goto(oldLink);
    await latePage.locator('#seq').fill(KEY);
    await latePage.getByRole('button', { name: 'Open', exact: true }).click();
    const alert = latePage.locator('[role="alert"][data-error-code]');
    await alert.waitFor({ timeout: 30_000 });
    return alert.getAttribute('data-error-code');
  }, { timeout: 60_000 }).toBe('FRAGMENT_NOT_IN_CLOUD');
  await expect(latePage.locator('[role="alert"]')).toContainText('withdrawn');
  await late.close();
});
