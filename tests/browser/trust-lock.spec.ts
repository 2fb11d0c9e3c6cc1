/**
 * The passphrase lock in the real app (issue #14): a weak passphrase is refused with a clear reason (live,
 * and on submit), a strong one is accepted; once locked, the app shows nothing of the records (no id, no
 * name, no size) on any route, also after a reload, until the right passphrase is entered.
 */
import { expect, test, type Page } from '@playwright/test';
import { protectThroughUi, startTrustStack, type TrustStack } from './trust-helpers.js';
import { skipIntro } from './app-helpers.js';

const SEQUENCE_KEY = 'Rk3&Wv7#Yb';
const STRONG = 'violet tractor under my pillow';

let stack: TrustStack;
test.beforeAll(async () => {
  stack = await startTrustStack();
});
test.afterAll(async () => {
  await stack?.close();
});

/** All text the app renders, shadow roots included, plus every attribute value. */
async function everythingShown(page: Page): Promise<string> {
  return page.evaluate(() => {
    const parts: string[] = [];
    const walk = (root: Document | ShadowRoot | Element) => {
      for (const element of Array.from(root.querySelectorAll('*'))) {
        for (const attribute of Array.from(element.attributes)) parts.push(attribute.value);
        if (element.shadowRoot) {
          parts.push(element.shadowRoot.textContent ?? '');
          walk(element.shadowRoot);
        }
      }
    };
    parts.push(document.body.textContent ?? '', location.href);
    walk(document);
    return parts.join('\n');
  });
}

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('weak passphrases are refused with the reason; a locked app shows nothing of the records', async ({ page }) => {
  const file = { name: 'cardiology-report-2024.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(123_457)) };
  const { recordId } = await protectThroughUi(page, stack.appUrl, file, SEQUENCE_KEY, 'stored');
  // What Records shows of it while unlocked: its name and its size.
  await page.goto(`${stack.appUrl}/#/records`);
  const listed = (await page.locator(`li[data-record-id="${recordId}"]`).textContent()) ?? '';
  const size = /\d+(\.\d+)?\s?(B|KB|KiB|MB|MiB)\b/.exec(listed)?.[0];
  expect(size, listed).toBeDefined();

  await page.goto(`${stack.appUrl}/#/settings`);
  const field = page.locator('#passphrase');
  await field.fill('password1');
  await expect(page.locator('#passphrase-strength')).toContainText('too easy to guess');
  await expect(page.locator('#passphrase-strength')).toHaveAttribute('data-acceptable', 'false');
  await page.getByRole('button', { name: 'Set passphrase' }).click();
  await expect(page.locator('ev-settings-view [role="status"]').first()).toContainText(/too easy to guess: .+ \(strength \d of 4, 3 needed\)/);
  await field.fill(STRONG);
  await expect(page.locator('#passphrase-strength')).toHaveAttribute('data-acceptable', 'true');
  await page.getByRole('button', { name: 'Set passphrase' }).click();
  await expect(page.getByRole('button', { name: 'Lock now' })).toBeVisible();

  await page.getByRole('button', { name: 'Lock now' }).click();
  await expect(page.locator('#unlock-passphrase')).toBeVisible();
  for (const route of ['#/records', '#/open', '#/settings', '#/protect']) {
    await page.goto(`${stack.appUrl}/${route}`);
    await expect(page.locator('#unlock-passphrase')).toBeVisible();
    const shown = await everythingShown(page);
    for (const secret of [recordId, 'cardiology-report-2024', size!]) expect(shown, `${route}: ${secret}`).not.toContain(secret);
  }

  await page.locator('#unlock-passphrase').fill('wrong passphrase entirely');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByRole('alert')).toContainText('not correct');
  await page.locator('#unlock-passphrase').fill(STRONG);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.goto(`${stack.appUrl}/#/records`);
  await expect(page.locator(`li[data-record-id="${recordId}"]`)).toContainText('cardiology-report-2024.txt');
});
