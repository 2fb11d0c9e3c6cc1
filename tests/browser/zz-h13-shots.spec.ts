import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startStack, type Stack } from '../../server/start.js';
import { protectInApp } from './app-flows.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url).pathname;
const PATIENT = 'patient-token-0123456789abcd';
const KEY = 'Vq3$kT8!wZr';
let stack: Stack;
let dataDir: string;
test.beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ehrv-shots-'));
  stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir: join(dataDir, 's3') }, tokens: { [PATIENT]: 'patient' }, log: () => {} });
});
test.afterAll(async () => {
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

for (const [label, viewport] of [['phone', { width: 360, height: 740 }], ['tablet', { width: 820, height: 1180 }]] as const) {
  test(`screens ${label}`, async ({ browser }) => {
    const opts = { viewport, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
    const doctor = await newAppContext(browser, opts);
    await skipIntro(doctor);
    const d = await doctor.newPage();
    await d.goto(`${stack.appUrl}/#/settings`);
    await d.locator('#card-name').scrollIntoViewIfNeeded();
    await d.screenshot({ path: `test-results/h13/${label}-key-card-empty.png` });
    await d.locator('#card-name').fill('Dr Ana Ruiz-Núñez, Cardiology');
    await d.getByRole('button', { name: 'Make my key card' }).click();
    await expect(d.locator('[data-fingerprint]')).toBeVisible();
    await d.locator('ev-my-key-card').scrollIntoViewIfNeeded();
    await d.screenshot({ path: `test-results/h13/${label}-key-card.png` });
    await d.locator('ev-my-key-card [data-card-link]').scrollIntoViewIfNeeded();
    await d.screenshot({ path: `test-results/h13/${label}-key-card-2.png` });
    const cardLink = (await d.locator('code[data-card-link]').textContent())!.trim();

    const patient = await newAppContext(browser, opts);
    await skipIntro(patient);
    const p: Page = await patient.newPage();
    await p.goto(`${stack.appUrl}/#/settings`);
    await p.locator('#presign').fill(`${stack.appUrl}/api/presign`);
    await p.locator('#token').fill(PATIENT);
    await p.getByRole('button', { name: 'Save', exact: true }).click();
    const { recordId } = await protectInApp(p, stack.appUrl, PHOTO, KEY);
    await p.goto(`${stack.appUrl}/#/records`);
    const li = p.locator(`li[data-record-id="${recordId}"]`);
    await li.getByRole('button', { name: 'Share', exact: true }).click();
    await li.locator('ev-share-link').scrollIntoViewIfNeeded();
    await p.screenshot({ path: `test-results/h13/${label}-share-sheet.png` });
    await li.getByRole('button', { name: 'Share to a doctor’s key card…' }).click();
    await li.locator('#key-card').fill(cardLink);
    await expect(li.locator('[data-card-checked]')).toBeVisible();
    await li.locator('[data-card-checked]').scrollIntoViewIfNeeded();
    await p.screenshot({ path: `test-results/h13/${label}-share-to-card.png` });
    await li.getByRole('button', { name: /^Make a link for/ }).click();
    await li.locator('[data-made-for]').scrollIntoViewIfNeeded();
    await p.screenshot({ path: `test-results/h13/${label}-share-to-card-made.png` });
    await li.getByRole('button', { name: 'Show' }).first().click();
    const link = (await li.locator('ev-share-link code[data-secret]').textContent())!.trim();

    const d2 = await doctor.newPage();
    await d2.goto(link);
    await expect(d2.locator('[data-to-card="here"]')).toBeVisible();
    await d2.screenshot({ path: `test-results/h13/${label}-open-on-card.png` });
    const other = await newAppContext(browser, opts);
    await skipIntro(other);
    const o = await other.newPage();
    await o.goto(link);
    await o.locator('#seq').fill(KEY);
    await o.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(o.locator('[role="alert"][data-error-code]')).toBeVisible();
    await o.screenshot({ path: `test-results/h13/${label}-open-elsewhere.png` });
    // A card link opened on the patient's device.
    const p2 = await patient.newPage();
    await p2.goto(cardLink);
    await p2.waitForTimeout(800);
    await p2.screenshot({ path: `test-results/h13/${label}-card-link-arrived.png` });
    await doctor.close();
    await patient.close();
    await other.close();
  });
}
