/** App flows shared by the e2e specs that drive the real app (not the test harness). */
import { expect, type Page } from '@playwright/test';

/** Protects `file` through the Protect view with `key`; waits until it is in the cloud; returns its share text. */
export async function protectInApp(page: Page, appUrl: string, file: string, key: string): Promise<{ shareText: string; recordId: string }> {
  await page.goto(`${appUrl}/#/protect`);
  // A fresh Protect view: the card of an earlier record must not be taken for this one.
  await page.reload();
  // The sequence key is chosen first (step 1), then the file (step 2).
  await page.locator('ev-sequence-key-field input').fill(key);
  await page.locator('#pick').setInputFiles(file);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  await card.getByRole('button', { name: 'Show' }).click();
  const shareText = (await card.locator('code[data-secret]').textContent())!.trim();
  return { shareText, recordId: (await card.getAttribute('data-record-id'))! };
}
