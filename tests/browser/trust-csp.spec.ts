/**
 * Markup in a record's name does not run, and the served Content-Security-Policy blocks inline script:
 * in the real app (built dist/ behind server/security-headers.ts), files named like XSS payloads are
 * protected, listed in Records and opened, and script injected into the page the way an XSS bug would
 * inject it is refused with a `securitypolicyviolation` event.
 */
import { expect, test, type Page } from '@playwright/test';
import { encode as encodePng } from 'fast-png';
import { readFile } from 'node:fs/promises';
import { pickFiles, startTrustStack, vaultCounts, type FilePayload, type TrustStack } from './trust-helpers.js';
import { skipIntro } from './app-helpers.js';

const SEQUENCE_KEY = 'Xs5%Hq3@Lp';
const PNG = Buffer.from(encodePng({ width: 2, height: 2, data: new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 255]), channels: 4, depth: 8 }));
const HOSTILE: FilePayload[] = [
  { name: '<img src=x onerror="window.__pwned=1">.txt', mimeType: 'text/plain', buffer: Buffer.from('note 1') },
  { name: '<script>window.__pwned=2</script>.png', mimeType: 'image/png', buffer: PNG },
  { name: '"><svg onload="window.__pwned=3">\'><b>bold</b>.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7 not really') },
];

interface Violation {
  readonly directive: string;
  readonly blocked: string;
  readonly sample: string;
}

declare global {
  interface Window {
    __pwned?: number;
    __violations: Violation[];
  }
}

let stack: TrustStack;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startTrustStack();
});
// The first-run introduction is tested in ux.spec.ts.
test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});
test.afterAll(async () => {
  await stack?.close();
});

test.beforeEach(async ({ page }) => {
  // Injected by the test harness (not subject to the page's CSP): collects the policy's reports.
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample }));
  });
});

const pwned = (page: Page) => page.evaluate(() => window.__pwned);
const violations = (page: Page) => page.evaluate(() => window.__violations);

test('file names written as markup are shown as text in Protect, Records and Open, and nothing runs', async ({ page }) => {
  const response = await page.goto(stack.appUrl);
  const csp = response!.headers()['content-security-policy'] ?? '';
  const directives = csp.split(';').map((d) => d.trim());
  // Scripts only from the app's origin; WebAssembly may compile (the DICOM codecs), JavaScript eval may not.
  expect(directives).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(directives).toContain("object-src 'none'");

  await pickFiles(page, stack.appUrl, HOSTILE, SEQUENCE_KEY);
  await page.getByRole('button', { name: /^Protect/ }).click();
  await expect(page.locator('section[data-record-id]')).toHaveCount(HOSTILE.length, { timeout: 60_000 });
  // Each name is a heading's text, character for character.
  const headings = await page.locator('section[data-record-id] h3').allTextContents();
  for (const file of HOSTILE) expect(headings).toContain(file.name);
  for (const file of HOSTILE) await expect(page.getByRole('region', { name: `Protected ${file.name}` })).toHaveCount(1);

  await page.goto(`${stack.appUrl}/#/records`);
  const items = page.locator('li[data-record-id]');
  await expect(items).toHaveCount(HOSTILE.length);
  for (const file of HOSTILE) await expect(items.filter({ hasText: file.name })).toHaveCount(1);
  // The delete confirmation puts the name in its heading too.
  await items.filter({ hasText: HOSTILE[2]!.name }).getByRole('button', { name: /^Delete/ }).click();
  await expect(page.getByRole('heading', { name: `Delete “${HOSTILE[2]!.name}”?` })).toBeVisible();
  // (dispatchEvent: on a phone the dialog's buttons sit under the fixed bottom navigation.)
  await page.getByRole('button', { name: 'Keep it' }).dispatchEvent('click');
  await expect(page.getByRole('heading', { name: /^Delete/ })).toHaveCount(0);

  // Open the text file and the image from the list: their names become headings, labels and download names.
  await items.filter({ hasText: HOSTILE[0]!.name }).getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  const save = page.getByRole('link', { name: 'Save the original file' });
  await expect(save).toBeVisible({ timeout: 60_000 });
  expect(await save.getAttribute('download')).toBe(HOSTILE[0]!.name);
  await expect(page.getByRole('heading', { name: HOSTILE[0]!.name, exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: `Open “${HOSTILE[0]!.name}”`, exact: true })).toBeVisible();

  await page.goto(`${stack.appUrl}/#/records`);
  await items.filter({ hasText: HOSTILE[1]!.name }).getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('heading', { name: HOSTILE[1]!.name, exact: true })).toBeVisible();

  // No element the names describe exists anywhere (Playwright's CSS pierces shadow roots), nothing ran,
  // and the app itself never needed anything the policy forbids.
  expect(await page.locator('img[src="x"], svg[onload], b:text-is("bold"), [onerror], [onload]').count()).toBe(0);
  expect(await page.locator('script').count()).toBe(await page.evaluate(() => document.head.querySelectorAll('script').length));
  expect(await pwned(page)).toBeUndefined();
  expect(await violations(page)).toEqual([]);
  expect(await vaultCounts(page)).toMatchObject({ records: HOSTILE.length });
});

test('script injected into the page is blocked by the CSP and reported', async ({ page }) => {
  await page.goto(`${stack.appUrl}/#/records`);
  await expect(page.getByRole('heading', { name: 'Records on this device' })).toBeVisible();
  const s3 = new URL(stack.s3Url).origin;

  const reported = async (inject: () => Promise<void>, directive: RegExp) => {
    const before = (await violations(page)).length;
    await inject();
    await expect.poll(async () => (await violations(page)).slice(before).map((v) => v.directive)).toEqual(expect.arrayContaining([expect.stringMatching(directive)]));
    expect(await pwned(page)).toBeUndefined();
  };

  // An inline event handler, as an HTML injection into the page would bring it.
  await reported(() => page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<img src="x" onerror="window.__pwned=1">')), /^script-src(-attr)?$/);
  // An inline <script> element (scripts inserted as HTML never run at all; one created by script is refused by the policy).
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<script>window.__pwned=2</script>'));
  await reported(
    () =>
      page.evaluate(() => {
        const script = document.createElement('script');
        script.textContent = 'window.__pwned = 3';
        document.body.append(script);
      }),
    /^script-src(-elem)?$/,
  );
  // A script from another origin (here the object store's).
  await reported(
    () =>
      page.evaluate((origin) => {
        const script = document.createElement('script');
        script.src = `${origin}/ehr-vault/evil.js`;
        document.body.append(script);
      }, s3),
    /^script-src(-elem)?$/,
  );
  // A javascript: URL.
  await reported(
    () =>
      page.evaluate(() => {
        const link = document.createElement('a');
        link.href = 'javascript:window.__pwned=4';
        document.body.append(link);
        link.click();
      }),
    /^script-src(-elem)?$/,
  );
  // Strings as code, from the page's own script (a <script> would be the attacker's way in; the test's
  // own evaluate runs as an extension and is exempt, so it calls the page's setTimeout with a string).
  await reported(
    () =>
      page.evaluate(() => {
        (window.setTimeout as (handler: string, ms: number) => number)('window.__pwned = 5', 0);
      }),
    /^script-src$/,
  );
  // A plugin object and a <base> that would re-point relative script URLs.
  await reported(() => page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<object data="/evil.swf" type="application/x-shockwave-flash"></object>')), /^object-src$/);

  const all = await violations(page);
  expect(all.length).toBeGreaterThanOrEqual(5);
  expect(await pwned(page)).toBeUndefined();
  console.log(`csp: ${all.length} violations reported: ${all.map((v) => `${v.directive} (${v.blocked || v.sample})`).join(', ')}`);
});

test('the policy still lets the app do its work: DICOM previews that need WebAssembly codecs render, with no violation', async ({ page }) => {
  // JPEG-LS (CharLS), JPEG 2000 (OpenJPEG) and 8-bit JPEG (libjpeg-turbo) are decoded by WebAssembly in
  // the viewer worker; a policy without 'wasm-unsafe-eval' refused to compile them.
  const names = ['MR_small_jpeg_ls_lossless.dcm', 'MR_small_jp2klossless.dcm', 'SC_rgb_jpeg_dcmtk.dcm'];
  const files: FilePayload[] = await Promise.all(
    names.map(async (name) => ({ name, mimeType: 'application/dicom', buffer: await readFile(new URL(`../fixtures/${name}`, import.meta.url)) })),
  );
  await pickFiles(page, stack.appUrl, files, SEQUENCE_KEY);
  await page.getByRole('button', { name: /^Protect/ }).click();
  await expect(page.locator('section[data-record-id]')).toHaveCount(files.length, { timeout: 60_000 });
  for (const name of names) {
    await page.goto(`${stack.appUrl}/#/records`);
    await page.locator('li[data-record-id]', { hasText: name }).getByRole('button', { name: 'Open' }).click();
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(page.getByRole('link', { name: 'Save the original file' })).toBeVisible({ timeout: 60_000 });
    await expect(page.getByRole('img', { name: /^Scan preview/ }), name).toBeVisible({ timeout: 30_000 });
    await expect(page.locator('ev-scan-preview [role="alert"]'), name).toHaveCount(0);
  }
  expect(await violations(page)).toEqual([]);
});
