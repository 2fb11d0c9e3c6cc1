/**
 * Issue #13, key cards: a doctor's device makes a key card; the patient shares a record to it; the link
 * opens only there (plus the sequence key), pixel for pixel; the same link in a third browser fails with a
 * clear message. No request made while opening carries the record key, the wrapped key or the part after `#`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from './test.js';
import { startStack, type Stack } from '../../server/start.js';
import { decodeShareText, readShareText, toBase64Url } from '../../src/core/index.js';
import { protectInApp } from './app-flows.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url).pathname;
const PATIENT = 'patient-token-0123456789abcd';
const KEY = 'Vq3$kT8!wZr';
const DOCTOR = 'Dr Ana Ruiz-Núñez';

let stack: Stack;
let dataDir: string;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ehrv-card-'));
  stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir: join(dataDir, 's3') }, tokens: { [PATIENT]: 'patient' }, rateLimit: { burst: 1000, perSecond: 1000 }, log: () => {} });
});
test.afterAll(async () => {
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
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

test('a record shared to a doctor\'s key card opens on the doctor\'s device only, pixel for pixel', async ({ page, browser }) => {
  // The doctor's device makes its card (Settings → My key card).
  const doctor = await newAppContext(browser);
  const doctorRequests: string[] = [];
  doctor.on('request', (r) => doctorRequests.push(`${r.method()} ${r.url()} ${JSON.stringify(r.headers())} ${r.postData() ?? ''}`));
  const doctorPage = await doctor.newPage();
  await doctorPage.goto(`${stack.appUrl}/#/settings`);
  const myCard = doctorPage.locator('ev-my-key-card');
  await myCard.locator('#card-name').fill(`  ${DOCTOR} `);
  await myCard.getByRole('button', { name: 'Make my key card' }).click();
  await expect(myCard.locator('[data-card-name]')).toHaveText(DOCTOR);
  const fingerprint = (await myCard.locator('[data-fingerprint]').textContent())!.trim();
  expect(fingerprint).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){4}$/);
  const cardLink = (await myCard.locator('code[data-card-link]').textContent())!.trim();
  expect(cardLink.startsWith(`${stack.appUrl}/#ehrvc1.`)).toBe(true);
  // The private key is a non-extractable CryptoKey in IndexedDB.
  const extractable = await doctorPage.evaluate(() => new Promise<boolean | string>((resolve) => {
    const open = indexedDB.open('ehr-vault');
    open.onsuccess = () => {
      const get = open.result.transaction('keys').objectStore('keys').get('key-card');
      get.onsuccess = () => {
        const card = get.result as { keyPair: CryptoKeyPair } | undefined;
        resolve(card ? card.keyPair.privateKey.extractable : 'no card');
      };
    };
  }));
  expect(extractable).toBe(false);

  // The patient protects an image and shares it to the card, comparing the fingerprint.
  await signIn(page, PATIENT);
  const { shareText, recordId } = await protectInApp(page, stack.appUrl, PHOTO, KEY);
  const { recordKey } = decodeShareText(shareText);
  const keyText = shareText.split(':')[2]!;
  const resultSheet = page.locator(`section[data-record-id="${recordId}"] ev-share-link`);
  await resultSheet.getByRole('button', { name: 'Share to a doctor’s key card…' }).click();
  // A mistyped card (one character of the key changed) is refused with a typed error, not accepted.
  const typo = cardLink.replace(/(#ehrvc1\.B.{20})(.)/u, (_, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`);
  await resultSheet.locator('#key-card').fill(typo);
  await expect(resultSheet.locator('[role="alert"]')).toHaveAttribute('data-error-code', 'KEY_CARD_INVALID');
  await expect(resultSheet.getByRole('button', { name: /^Make a link for/ })).toHaveCount(0);
  // The doctor's card link, opened on the patient's phone: Records says so, and the share sheet has it filled in.
  await page.goto(cardLink);
  await expect(page.locator('[data-notice]')).toContainText('key card arrived');
  expect(page.url()).not.toContain('ehrvc1');
  const item = page.locator(`li[data-record-id="${recordId}"]`);
  await item.getByRole('button', { name: 'Share', exact: true }).click();
  const sheet = item.locator('ev-share-link');
  await expect(sheet.locator('#key-card')).toHaveValue(cardLink.slice(cardLink.indexOf('#') + 1));
  await expect(sheet.locator('[data-card-checked] [data-fingerprint]')).toHaveText(fingerprint);
  await expect(sheet.locator('[data-card-name]')).toHaveText(DOCTOR);
  await sheet.getByRole('button', { name: `Make a link for ${DOCTOR}` }).click();
  await expect(sheet.locator('[data-made-for]')).toContainText(fingerprint);
  await sheet.getByRole('button', { name: 'Show' }).click();
  const link = (await sheet.locator('code[data-secret]').textContent())!.trim();
  const info = readShareText(link);
  if (!('wrapped' in info)) throw new Error('the link should carry a wrapped key');
  expect(info.recordId).toBe(recordId);
  expect(info.wrapped.name).toBe(DOCTOR);
  expect(link).not.toContain(keyText);
  expect(link).not.toContain(toBase64Url(recordKey));

  // The patient's own view, for the reference digest.
  await page.goto(`${stack.appUrl}/#/records`);
  await page.locator(`li[data-record-id="${recordId}"]`).getByRole('button', { name: 'Open' }).click();
  await page.locator('#seq').fill(KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  const original = await viewerDigest(page);

  // The doctor opens it: the same fingerprint is on the screen, the pixels are equal.
  // As a doctor does: the link opens in a new tab of the browser that holds the card.
  await doctorPage.close();
  doctorRequests.length = 0;
  const doctorTab = await doctor.newPage();
  await doctorTab.goto(link);
  const arrival = doctorTab.locator('[data-to-card="here"]');
  await expect(arrival).toBeVisible();
  await expect(arrival.locator('[data-fingerprint]')).toHaveText(fingerprint);
  await expect.poll(() => doctorTab.url()).not.toContain('ehrv1');
  await doctorTab.locator('#seq').fill(KEY);
  await doctorTab.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(doctorTab.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  expect(await viewerDigest(doctorTab)).toBe(original);
  const hash = link.slice(link.indexOf('#') + 1);
  const wrappedPart = hash.split(':')[2]!;
  expect(doctorRequests.length).toBeGreaterThan(0);
  for (const secret of [hash, wrappedPart, wrappedPart.split('.')[1]!, keyText, toBase64Url(recordKey), KEY]) {
    expect(doctorRequests.filter((r) => r.includes(secret)), secret).toEqual([]);
  }
  await doctor.close();

  // A third browser (no card): told plainly whose card it is for; nothing is fetched or shown.
  const other = await newAppContext(browser);
  const otherPage = await other.newPage();
  await otherPage.goto(link);
  await expect(otherPage.locator('[data-to-card="elsewhere"]')).toContainText(`${DOCTOR}’s key card`);
  // Nothing here can open it: the notice says so once, and no sequence key is asked for.
  await expect(otherPage.locator('[data-to-card="elsewhere"]')).toContainText('Open it on the device that holds that card');
  await expect(otherPage.locator('#seq')).toHaveCount(0);
  await expect(otherPage.getByRole('button', { name: 'Open', exact: true })).toHaveCount(0);
  await expect(otherPage.locator('[role="alert"][data-error-code]')).toHaveCount(0);
  await expect(otherPage.locator('ev-image-viewer')).toHaveCount(0);
  // Pasted into the open form instead, with a key: the same words, as an error, and nothing opened.
  await otherPage.goto(`${stack.appUrl}/#/open`);
  await otherPage.locator('#share').fill(link);
  await otherPage.locator('#seq').fill(KEY);
  await otherPage.getByRole('button', { name: 'Open', exact: true }).click();
  const alert = otherPage.locator('[role="alert"][data-error-code]');
  await expect(alert).toHaveAttribute('data-error-code', 'SHARED_TO_ANOTHER_CARD');
  await expect(alert).toContainText(`This link was shared to ${DOCTOR}'s key card.`);
  await expect(otherPage.locator('ev-image-viewer')).toHaveCount(0);
  await other.close();
});
