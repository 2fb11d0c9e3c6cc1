/**
 * Issue #15 items 2 and 4 in the real app: before protecting, the Protect view shows the upload size,
 * and for a lossy original (JPEG) offers to keep the original file with both sizes (pixels stay the
 * default); the Records list shows the true pixel size and the true upload size.
 */
import { expect, test } from './test.js';
import { useAppStack } from './app-suite.js';
import { crc32, deflateSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filterImage } from '../../src/core/row-filters.js';
import { PIXEL_ESTIMATE_TOLERANCE } from '../../src/services/upload-estimate.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url);
const SEQUENCE_KEY = 'adk21937';

const stack = useAppStack();

async function choosePhoto(page: import('@playwright/test').Page) {
  await page.goto(`${stack.appUrl}/#/protect`);
  await page.reload();
  // The sequence key first (step 1), then the file (step 2).
  await page.locator('ev-sequence-key-field input').fill(SEQUENCE_KEY);
  await page.locator('#pick').setInputFiles(PHOTO.pathname);
}

test('a JPEG shows its pixel upload estimate and the original-file size; pixels are the default, then Records shows pixel size and upload', async ({ page }) => {
  await choosePhoto(page);
  const estimate = page.locator('[data-upload-estimate]');
  await expect(estimate).toContainText('720 × 477 pixels, upload about');
  const estimated = parseSize((await estimate.textContent())!.split('upload about')[1]!);
  const keep = page.locator('[data-keep-original]');
  await expect(keep).not.toBeChecked();
  await expect(page.locator('label.keep-original')).toContainText(/Keep the original file instead: \d+(\.\d)? KB rather than about \d+(\.\d)? (KB|MB) as pixels/);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  const recordId = (await card.getAttribute('data-record-id'))!;
  await page.goto(`${stack.appUrl}/#/records`);
  const row = page.locator(`li[data-record-id="${recordId}"]`);
  await expect(row.locator('[data-pixels]')).toHaveText('720 × 477 · 8-bit RGB');
  await expect(row.locator('[data-upload-size]')).toContainText(/^[\d.]+ (KB|MB) upload$/);
  // The estimate ("about") is within its stated tolerance of the real upload (a WebP body here).
  const uploaded = parseSize((await row.locator('[data-upload-size]').textContent())!);
  expect(estimated / uploaded).toBeLessThanOrEqual(PIXEL_ESTIMATE_TOLERANCE);
  expect(uploaded / estimated).toBeLessThanOrEqual(PIXEL_ESTIMATE_TOLERANCE);
  // The source file's size (259,494 B), not the compressed pixel body's.
  await expect(row.locator('[data-content-size]')).toHaveText('253 KB');
});

test('keeping the original file stores the JPEG as its bytes, and the upload is the figure shown', async ({ page }) => {
  await choosePhoto(page);
  await page.locator('[data-keep-original]').check();
  const shown = (await page.locator('[data-upload-estimate]').textContent())!;
  expect(shown).toMatch(/^Upload [\d.]+ KB \(the original file\)$/);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 60_000 });
  const recordId = (await card.getAttribute('data-record-id'))!;
  await page.goto(`${stack.appUrl}/#/records`);
  const row = page.locator(`li[data-record-id="${recordId}"]`);
  await expect(row).toBeVisible();
  await expect(row.locator('[data-pixels]')).toHaveCount(0);
  await expect(row.locator('[data-upload-size]')).toHaveText(`${shown.replace(/^Upload /, '').replace(/ \(the original file\)$/, '')} upload`);
});

/** "12.3 KB" / "1.2 MB" / "900 B" (src/ui/components/format.ts) → bytes. */
const parseSize = (text: string) => {
  const m = /([\d.]+) (B|KB|MB)/.exec(text)!;
  return Number(m[1]) * { B: 1, KB: 1024, MB: 1024 * 1024 }[m[2] as 'B' | 'KB' | 'MB'];
};

/** A 480×320 screenshot-like RGB PNG written as libpng does (adaptive filters, zlib 6): it gets a WebP body. */
function screenshotPng(): Uint8Array {
  const width = 480;
  const height = 320;
  const info = { width, height, pixelFormat: 'RGB8' as const };
  const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => {
    const p = (i / 3) | 0;
    const x = p % width;
    const y = (p / width) | 0;
    const ink = x % 40 === 0 || y % 24 === 0 || (((Math.imul(x >> 2, 73856093) ^ Math.imul(y >> 2, 19349663)) >>> 0) % 9 === 0 && y % 24 > 6);
    return ink ? [30, 60, 200][i % 3]! : 250;
  });
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(filterImage(pixels, info), { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}

test('a PNG screenshot (WebP body) shows "about" an upload within the stated tolerance of what Records then shows', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ehrv-cost-'));
  try {
    const file = join(dir, 'screenshot.png');
    writeFileSync(file, screenshotPng());
    await page.goto(`${stack.appUrl}/#/protect`);
    await page.reload();
    await page.locator('ev-sequence-key-field input').fill(SEQUENCE_KEY);
    await page.locator('#pick').setInputFiles(file);
    const estimate = page.locator('[data-upload-estimate]');
    await expect(estimate).toContainText('480 × 320 pixels, upload about');
    const estimated = parseSize((await estimate.textContent())!.split('upload about')[1]!);
    await page.getByRole('button', { name: /^Protect/ }).click();
    const card = page.locator('section[data-record-id]').first();
    await expect(card).toBeVisible({ timeout: 60_000 });
    const recordId = (await card.getAttribute('data-record-id'))!;
    await page.goto(`${stack.appUrl}/#/records`);
    const uploaded = parseSize((await page.locator(`li[data-record-id="${recordId}"] [data-upload-size]`).textContent())!);
    expect(estimated / uploaded).toBeLessThanOrEqual(PIXEL_ESTIMATE_TOLERANCE);
    expect(uploaded / estimated).toBeLessThanOrEqual(PIXEL_ESTIMATE_TOLERANCE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
