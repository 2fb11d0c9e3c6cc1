import { expect, test } from './test.js';
import { useAppStack } from './app-suite.js';
import { protectInApp } from './app-flows.js';
import { decodeShareText, deriveLocatorKeys, fragmentObjectName } from '../../src/core/index.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url);
const SEQUENCE_KEY = 'Hx7#qL2!wZ';

const stack = useAppStack();

test('Records shows a record\'s health: an object deleted from the bucket is found by Check and restored by Repair', async ({ page }) => {
  const { shareText, recordId } = await protectInApp(page, stack.appUrl, PHOTO.pathname, SEQUENCE_KEY);
  await page.goto(`${stack.appUrl}/#/records`);
  const item = page.locator(`li[data-record-id="${recordId}"]`);
  const health = item.locator('[data-health]');
  await expect(health).toContainText('survives the loss of 2 fragments');
  await item.getByRole('button', { name: /^Check/ }).click();
  await expect(health).toHaveAttribute('data-health', 'healthy', { timeout: 60_000 });

  // Object 4 of this very record is deleted from the bucket (its name is derived as FORMAT.md §2.3 says).
  const { recordKey } = decodeShareText(shareText);
  const name = await fragmentObjectName(await deriveLocatorKeys(recordKey), recordId, 3);
  const key = (await stack.listObjects()).find((k) => k.endsWith(`/${name}`))!;
  await stack.deleteObject(key);
  await item.getByRole('button', { name: /^Check/ }).click();
  await expect(health).toHaveAttribute('data-health', 'degraded', { timeout: 60_000 });
  await expect(health).toContainText('1 missing');

  await item.getByRole('button', { name: /^Repair/ }).click();
  await expect(health).toHaveAttribute('data-health', 'healthy', { timeout: 60_000 });
  await expect(item.getByRole('button', { name: /^Repair/ })).toHaveCount(0);
  expect((await stack.listObjects()).filter((k) => k.endsWith(`/${name}`))).toHaveLength(1);
});

test('Settings says what the storage choice survives: one provider holds every object; 2 fragments may be lost', async ({ page }) => {
  await page.goto(`${stack.appUrl}/#/settings`);
  const providers = page.locator('ev-storage-providers');
  await expect(providers.locator('[data-survives-objects="2"]')).toContainText('survives the loss of 2 fragments');
  await expect(providers.locator('[data-provider-holds-all]')).toContainText('One provider holds every object');
  // An address that is not https (nor this machine) is refused with a message, and nothing is added.
  await providers.locator('#provider-url').fill('http://storage.example.org/api/presign');
  await providers.locator('#provider-token').fill('some-token-0123456789');
  await providers.getByRole('button', { name: 'Add provider' }).click();
  await expect(providers.getByRole('status')).toContainText('https://');
  await expect(providers.locator('[data-provider]')).toHaveCount(0);
});
