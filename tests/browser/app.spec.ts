import { readFile } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from './test.js';
import { useAppStack } from './app-suite.js';
import { newAppContext } from './app-helpers.js';
import { decodeShareText, deriveLocatorKeys, encodeKeyText, fragmentObjectName, generateRecordKey } from '../../src/core/index.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url);
const DICOM = new URL('../fixtures/CT_small.dcm', import.meta.url);
const SEQUENCE_KEY = 'adk21937';

const stack = useAppStack();

async function protect(page: Page, file: URL, key = SEQUENCE_KEY): Promise<{ shareText: string; recordId: string }> {
  await page.goto(`${stack.appUrl}/#/protect`);
  // The sequence key is chosen first, then the file.
  await page.locator('ev-sequence-key-field input').fill(key);
  await page.locator('#pick').setInputFiles(file.pathname);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  await card.getByRole('button', { name: 'Show' }).click();
  const shareText = (await card.locator('code[data-secret]').textContent())!.trim();
  return { shareText, recordId: (await card.getAttribute('data-record-id'))! };
}

async function openShared(page: Page, shareText: string, key = SEQUENCE_KEY) {
  await page.goto(`${stack.appUrl}/#/open`);
  await page.locator('#share').fill(shareText);
  await page.locator('#seq').fill(key);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
}

/** SHA-256 of RGBA pixels: of the viewer's canvas, or of the original decoded the way the app decodes JPEGs. */
async function viewerPixelsDigest(page: Page): Promise<string> {
  return page.locator('ev-image-viewer canvas').evaluate(async (canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return `${canvas.width}x${canvas.height}:${Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  });
}

async function originalPixelsDigest(page: Page, file: URL): Promise<string> {
  const base64 = (await readFile(file)).toString('base64');
  return page.evaluate(async (b64) => {
    const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    return `${bitmap.width}x${bitmap.height}:${Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }, base64);
}

test('a real photo is protected, uploaded, and opened pixel for pixel in a fresh browser context', async ({ page, browser }, info) => {
  const { shareText } = await protect(page, PHOTO);
  expect(shareText).toMatch(/^ehrv1:/);
  expect((await stack.listObjects()).length).toBeGreaterThanOrEqual(8);
  await page.screenshot({ path: info.outputPath(`protect-${info.project.name}.png`), fullPage: false });

  const fresh = await newAppContext(browser, { viewport: page.viewportSize()! });
  const other = await fresh.newPage();
  await openShared(other, shareText);
  await expect(other.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  expect(await viewerPixelsDigest(other)).toBe(await originalPixelsDigest(other, PHOTO));
  await other.screenshot({ path: info.outputPath(`open-image-${info.project.name}.png`) });
  await fresh.close();
});

test('a DICOM file comes back byte for byte in a fresh context', async ({ page, browser }) => {
  const { shareText } = await protect(page, DICOM);
  const fresh = await newAppContext(browser);
  const other = await fresh.newPage();
  await openShared(other, shareText);
  const link = other.getByRole('link', { name: 'Save the original file' });
  await expect(link).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([other.waitForEvent('download'), link.click()]);
  const saved = await readFile((await download.path())!);
  expect(saved.equals(await readFile(DICOM))).toBe(true);
  expect(download.suggestedFilename()).toBe('CT_small.dcm');
  // The windowed preview decodes the CT slice and shows its study details on this device.
  const preview = other.locator('ev-scan-preview');
  await expect(preview.locator('dl')).toContainText('CT', { timeout: 30_000 });
  await expect(preview.locator('ev-image-viewer canvas')).toHaveJSProperty('width', 128);
  await expect(preview.getByRole('button', { name: 'Invert' })).toBeVisible();
  await fresh.close();
});

test('share as QR code on tap; an encrypted backup restores the records on another device', async ({ page, browser }) => {
  await protect(page, PHOTO, 'Bk9#mPq2Lz');
  const card = page.locator('section[data-record-id]').first();
  await expect(card.locator('ev-qr-code')).toHaveCount(0);
  await card.getByRole('button', { name: 'QR code' }).click();
  await expect(card.locator('ev-qr-code svg')).toBeVisible();

  await page.goto(`${stack.appUrl}/#/settings`);
  await page.locator('#backup-passphrase').fill('correct horse battery staple');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export backup' }).click()]);
  const backupPath = (await download.path())!;
  const backup = await readFile(backupPath, 'utf8');
  expect(backup).not.toContain('photo-board');
  expect(backup).not.toContain('Bk9#mPq2Lz');

  const fresh = await newAppContext(browser);
  const other = await fresh.newPage();
  await other.goto(`${stack.appUrl}/#/settings`);
  await other.locator('#backup-file').setInputFiles(backupPath);
  await other.locator('#backup-passphrase').fill('wrong passphrase here');
  await other.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(other.locator('ev-settings-view p[role="status"]')).toContainText('not correct', { timeout: 30_000 });
  await other.locator('#backup-passphrase').fill('correct horse battery staple');
  await other.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(other.locator('ev-settings-view p[role="status"]')).toContainText('Restored', { timeout: 30_000 });
  await other.goto(`${stack.appUrl}/#/records`);
  const item = other.locator('li[data-record-id]').filter({ hasText: 'photo-board.jpg' }).first();
  await expect(item).toBeVisible();
  await item.getByRole('button', { name: 'Open' }).click();
  // The backup carries record keys, never sequence keys: the person types the key they remember.
  await expect(other.locator('#seq')).toHaveValue('');
  await other.locator('#seq').fill('Bk9#mPq2Lz');
  await other.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(other.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  expect(await viewerPixelsDigest(other)).toBe(await originalPixelsDigest(other, PHOTO));
  await fresh.close();
});

test('each invalid sequence key from the paper shows its reason', async ({ page }) => {
  await page.goto(`${stack.appUrl}/#/protect`);
  await page.locator('#pick').setInputFiles(PHOTO.pathname);
  const field = page.locator('ev-sequence-key-field');
  const cases: [string, RegExp][] = [
    ['Adk 1234', /space/i],
    ['Adk21224', /'2'.*more than once/],
    ['Adk12', /needs at least 8/],
  ];
  for (const [key, reason] of cases) {
    await field.locator('input').fill(key);
    await expect(field.locator('#key-status')).toContainText(reason);
    await expect(page.getByRole('button', { name: /^Protect/ })).toBeDisabled();
  }
  await field.locator('input').fill('adk21937');
  await expect(field.locator('#key-status')).toContainText('8 fragments');
});

test('wrong record key, wrong sequence key and objects deleted from the bucket (within p, beyond p) each get their outcome', async ({ page, browser }) => {
  const { shareText } = await protect(page, PHOTO, 'Qw7#zR2!xK');
  const fresh = await newAppContext(browser);
  const other = await fresh.newPage();
  const alert = other.locator('[role="alert"][data-error-code]');

  await openShared(other, shareText, 'Qw7#zR2!xJ');
  await expect(alert).toHaveAttribute('data-error-code', /WRONG_SEQUENCE_KEY|FRAGMENT_NOT_IN_CLOUD/, { timeout: 60_000 });

  await openShared(other, shareText, 'Qw7#zR!2xK');
  await expect(alert).toHaveAttribute('data-error-code', 'WRONG_SEQUENCE_KEY', { timeout: 60_000 });
  await expect(alert).toContainText('sequence key');
  await expect(other.locator('ev-image-viewer')).toHaveCount(0);

  // A share text with another (valid) record key: its object names differ, so nothing is found.
  const otherKey = shareText.replace(/ehrvk1\.[A-Za-z0-9_-]+/, encodeKeyText(generateRecordKey()));
  await openShared(other, otherKey, 'Qw7#zR2!xK');
  await expect(alert).toHaveAttribute('data-error-code', /FRAGMENT_NOT_IN_CLOUD|WRONG_RECORD_KEY/, { timeout: 60_000 });
  await expect(other.locator('ev-image-viewer')).toHaveCount(0);
  await fresh.close();

  // Delete object 3 of this very record from the bucket (its name is derived as FORMAT.md §2.1 says): with
  // the app's two parity objects it still opens; with three objects gone, the error names them.
  const { recordId, recordKey } = decodeShareText(shareText);
  const locator = await deriveLocatorKeys(recordKey);
  const removeSlot = async (slot: number) => {
    const name = await fragmentObjectName(locator, recordId, slot);
    const key = (await stack.listObjects()).find((k) => k.endsWith(`/${name}`));
    expect(key).toBeDefined();
    await stack.deleteObject(key!);
  };
  await removeSlot(3);
  const second = await newAppContext(browser);
  const p2 = await second.newPage();
  await openShared(p2, shareText, 'Qw7#zR2!xK');
  await expect(p2.locator('ev-image-viewer')).toHaveCount(1, { timeout: 60_000 });
  await second.close();
  await removeSlot(0);
  await removeSlot(9);
  const third = await newAppContext(browser);
  const p3 = await third.newPage();
  await openShared(p3, shareText, 'Qw7#zR2!xK');
  const beyond = p3.locator('[role="alert"][data-error-code]');
  await expect(beyond).toHaveAttribute('data-error-code', 'RECORD_UNRECOVERABLE', { timeout: 60_000 });
  await expect(beyond).toContainText('#1, #4, #10');
  await expect(p3.locator('ev-image-viewer')).toHaveCount(0);
  await third.close();
});

test('views have no serious or critical accessibility violations, and each is captured', async ({ page }, info) => {
  for (const view of ['protect', 'records', 'open', 'settings']) {
    await page.goto(`${stack.appUrl}/#/${view}`);
    await page.waitForTimeout(400);
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await page.screenshot({ path: info.outputPath(`view-${view}-${info.project.name}.png`) });
  }
});

test('installable PWA: valid manifest, a service worker controls the page, and it works offline', async ({ page, context }) => {
  await page.goto(stack.appUrl);
  const manifest = await (await page.request.get(`${stack.appUrl}/manifest.webmanifest`)).json();
  expect(manifest).toMatchObject({ name: 'EHR Vault', display: 'standalone', start_url: '/' });
  expect(manifest.icons.some((i: { purpose: string; sizes: string }) => i.purpose === 'maskable' && i.sizes === '512x512')).toBe(true);
  expect(manifest.icons.some((i: { sizes: string }) => i.sizes === '192x192')).toBe(true);
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active!;
    if (worker.state !== 'activated') await new Promise<void>((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
  });
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  await context.setOffline(true);
  await page.reload();
  await expect(page.locator('ev-app')).toBeVisible();
  await expect(page.getByText('Offline', { exact: true })).toBeVisible();
  await page.locator('#pick').setInputFiles(DICOM.pathname);
  await page.locator('ev-sequence-key-field input').fill('Zq8#mTx4Lw');
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  await expect(card.locator('[data-sync-state]')).not.toHaveAttribute('data-sync-state', 'synced');
  const objectsOffline = (await stack.listObjects()).length;
  await context.setOffline(false);
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 90_000 });
  expect((await stack.listObjects()).length).toBe(objectsOffline + 12); // 10 fragments and the app's 2 parity objects (APP_PARITY, issue 17)
});
