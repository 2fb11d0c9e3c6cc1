/** The command line and the real app read each other's records (issue 18): app → CLI open, CLI protect → app open. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { decode, encode } from 'fast-png';
import { protectInApp } from './app-flows.js';
import { skipIntro } from './app-helpers.js';
import { startAppStack, type AppStack } from './app-stack.js';

const DICOM = fileURLToPath(new URL('../fixtures/CT_small.dcm', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/ehr-vault.js', import.meta.url));
const SEQUENCE_KEY = 'Qw7#zR2!xK';

let stack: AppStack;
let token: string;
let temp: string;
test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  stack = await startAppStack();
  token = ((await (await fetch(`${stack.appUrl}/api/config`)).json()) as { defaultToken: string }).defaultToken;
  temp = mkdtempSync(join(tmpdir(), 'ehrv-cli-app-'));
  writeFileSync(join(temp, 'key.txt'), SEQUENCE_KEY);
});
test.afterAll(async () => {
  await stack?.close();
  if (temp) rmSync(temp, { recursive: true, force: true });
});

/** Asynchronous: the stack runs in this process, so a synchronous spawn would leave the CLI unanswered. */
function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, '--json', ...args], { env: { ...process.env, EHRV_STORAGE: stack.appUrl, EHRV_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});

test('a DICOM protected in the app opens with the CLI byte for byte', async ({ page }) => {
  const { shareText } = await protectInApp(page, stack.appUrl, DICOM, SEQUENCE_KEY);
  const out = join(temp, 'from-app.dcm');
  const run = await cli(['open', shareText, '--sequence-key-file', join(temp, 'key.txt'), '--out', out]);
  expect(run.code, run.err + run.out).toBe(0);
  expect(readFileSync(out).equals(readFileSync(DICOM))).toBe(true);
});

test('a DICOM protected by the CLI (default Argon2id; deflated as the app does, FORMAT.md §6.3; 2 parity objects) opens in the app byte for byte', async ({ page }) => {
  const manifest = join(temp, 'manifest.json');
  const run = await cli(['protect', DICOM, '--sequence-key-file', join(temp, 'key.txt'), '--manifest', manifest, '--jobs', '1']);
  expect(run.code, run.err + run.out).toBe(0);
  const [row] = JSON.parse(readFileSync(manifest, 'utf8')) as { shareText: string }[];
  // The stored objects hold less than the file: the CLI deflated it (CT_small deflates to ~64 %).
  const checked = await cli(['verify', row!.shareText]);
  const heads = JSON.parse(checked.out) as { n: number; parityObjects: number; objectLength: number; objects: number };
  expect([heads.parityObjects, heads.objects]).toEqual([2, heads.n + 2]);
  expect(heads.n * heads.objectLength).toBeLessThan(readFileSync(DICOM).length * 0.95);
  await page.goto(`${stack.appUrl}/#/open`);
  await page.locator('#share').fill(row!.shareText);
  await page.locator('#seq').fill(SEQUENCE_KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  const link = page.getByRole('link', { name: 'Save the original file' });
  await expect(link).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  expect(readFileSync((await download.path())!).equals(readFileSync(DICOM))).toBe(true);
  expect(download.suggestedFilename()).toBe('CT_small.dcm');
});

test('a 16-bit PNG protected by the CLI opens in the app as an image and saves as the same 16-bit pixels', async ({ page }) => {
  const width = 48;
  const height = 32;
  const data = new Uint16Array(width * height).map((_, i) => (i * 2654435761) >>> 16);
  const source = join(temp, 'scan16.png');
  writeFileSync(source, encode({ width, height, data, depth: 16, channels: 1 }));
  const manifest = join(temp, 'manifest-png.json');
  const run = await cli(['protect', source, '--sequence-key-file', join(temp, 'key.txt'), '--manifest', manifest, '--jobs', '1']);
  expect(run.code, run.err + run.out).toBe(0);
  const [row] = JSON.parse(readFileSync(manifest, 'utf8')) as { shareText: string; storedAs: string }[];
  expect(row!.storedAs).toBe('pixels');
  await page.goto(`${stack.appUrl}/#/open`);
  await page.locator('#share').fill(row!.shareText);
  await page.locator('#seq').fill(SEQUENCE_KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  const save = page.getByRole('button', { name: 'Save as PNG (lossless)' });
  await expect(save).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
  const saved = decode(readFileSync((await download.path())!));
  expect([saved.width, saved.height, saved.depth, saved.channels]).toEqual([width, height, 16, 1]);
  expect(Array.from(saved.data as Uint16Array)).toEqual(Array.from(data));
});
