/**
 * Flows every engine must pass, through the built app: a PDF and a file of 100 MiB protected, uploaded and
 * opened byte for byte in a fresh context. In the `safari` project they run with Safari 16.4's gaps imposed
 * (engine-gaps.ts): the 100 MiB file then takes the default-reader and one-writer scratch-file fallbacks.
 * The same flows run in stock Firefox in tests/firefox/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppStack, type AppStack } from './app-stack.js';
import { shimmedWorkers } from './engine-gaps.js';
import { expect, test, type Page } from './test.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const KEY = 'adk21937';
const MiB = 1024 * 1024;

let stack: AppStack;
let dir: string;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startAppStack();
  dir = await mkdtemp(join(tmpdir(), 'ehrv-cross-'));
});
test.afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function protect(page: Page, path: string): Promise<string> {
  await page.goto(`${stack.appUrl}/#/protect`);
  await page.locator('#pick').setInputFiles(path);
  await page.locator('ev-sequence-key-field input').fill(KEY);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const card = page.locator('section[data-record-id]').first();
  await expect(card).toBeVisible({ timeout: 120_000 });
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 120_000 });
  await card.getByRole('button', { name: 'Show' }).click();
  return (await card.locator('code[data-secret]').textContent())!.trim();
}

/** Opens `shareText` in `page` and returns the SHA-256, size and name of the file the app offers. */
async function openFile(page: Page, shareText: string): Promise<{ digest: string; size: number; name: string }> {
  await page.goto(`${stack.appUrl}/#/open`);
  await page.locator('#share').fill(shareText);
  await page.locator('#seq').fill(KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  const link = page.getByRole('link', { name: 'Save the original file' });
  await expect(link).toBeVisible({ timeout: 120_000 });
  const name = (await link.getAttribute('download'))!;
  // The app's CSP allows no fetch of blob: URLs: the Blob is taken from the open view.
  const opened = await page.locator('ev-open-view').evaluate(async (el) => {
    const blob = (el as unknown as { outcome: { blob: Blob } }).outcome.blob;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    return { digest: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), size: blob.size };
  });
  return { ...opened, name };
}

function pdfBytes(): Buffer {
  const text = 'BT /F1 12 Tf 20 50 Td (Discharge summary) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('a PDF comes back byte for byte in a fresh context', async ({ page, browser }) => {
  const path = join(dir, 'discharge-summary.pdf');
  const bytes = pdfBytes();
  await writeFile(path, bytes);
  const shareText = await protect(page, path);
  const fresh = await newAppContext(browser);
  expect(await openFile(await fresh.newPage(), shareText)).toEqual({ digest: sha256(bytes), size: bytes.length, name: 'discharge-summary.pdf' });
  await fresh.close();
});

test('a file of 100 MiB is protected and opened byte for byte in a fresh context', async ({ page, browser, engineGaps }) => {
  test.setTimeout(300_000);
  const path = join(dir, 'whole-slide.bin');
  const bytes = randomBytes(100 * MiB + 12_345);
  await writeFile(path, bytes);
  const shareText = await protect(page, path);
  const fresh = await newAppContext(browser);
  expect(await openFile(await fresh.newPage(), shareText)).toEqual({ digest: sha256(bytes), size: bytes.length, name: 'whole-slide.bin' });
  // With Safari's gaps, the engine Workers ran with the shim on both sides (their pool Workers get it from
  // them: engine.spec.ts shows that a nested Worker takes the same paths).
  for (const context of [page.context(), fresh]) {
    if (engineGaps === 'none') expect(shimmedWorkers(context)).toEqual([]);
    else expect(shimmedWorkers(context)).toContain('/assets/engine-worker.js');
  }
  await fresh.close();
});
