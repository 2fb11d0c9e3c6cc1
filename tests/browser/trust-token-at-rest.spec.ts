/**
 * Issue #14: a bearer token set in Settings was stored unsealed in IndexedDB, readable by anyone with a
 * copy of the browser profile, passphrase lock or not. It is now sealed under the vault key.
 */
import { expect, test } from '@playwright/test';
import { dumpIndexedDb, startTrustStack, type TrustStack } from './trust-helpers.js';
import { skipIntro } from './app-helpers.js';

const TOKEN = 'hospital-token-4f9c2a7e1b8d3c6f0a5e';

let stack: TrustStack;
test.beforeAll(async () => {
  stack = await startTrustStack();
});
test.afterAll(async () => {
  await stack?.close();
});

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('a presign token saved in Settings is stored only sealed, and still used', async ({ page }) => {
  await page.goto(`${stack.appUrl}/#/settings`);
  await page.locator('#presign').fill(`${stack.appUrl}/api/presign`);
  await page.locator('#token').fill(TOKEN);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect.poll(async () => (await dumpIndexedDb(page)).counts.settings ?? 0).toBe(1);

  const dump = await dumpIndexedDb(page);
  const haystacks = dump.items.flatMap((item) => [item.json, ...item.binaries.map((b) => b.toString('latin1'))]);
  expect(haystacks.some((h) => h.includes(`${stack.appUrl}/api/presign`))).toBe(true);
  for (const form of [TOKEN, Buffer.from(TOKEN).toString('base64'), Buffer.from(TOKEN).toString('hex')]) {
    expect(haystacks.filter((h) => h.includes(form)), form).toEqual([]);
  }
  const settings = dump.items.find((item) => item.store === 'settings')!;
  expect(settings.json).toContain('sealedToken');

  // The app still reads it back (unsealed, in memory) after a reload.
  await page.reload();
  await page.goto(`${stack.appUrl}/#/settings`);
  await expect(page.locator('#token')).toHaveValue(TOKEN);
});
