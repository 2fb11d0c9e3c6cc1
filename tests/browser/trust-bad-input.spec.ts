/**
 * Bad input in the real app: odd files, hostile names, exotic sequence keys and mangled share texts.
 * Each one either works (and opens again) or gets a message that says what is wrong, and a failure
 * leaves nothing half-saved in IndexedDB.
 */
import { deflateSync } from 'node:zlib';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { encode as encodePng } from 'fast-png';
import { dumpIndexedDb, pickFiles, startTrustStack, vaultCounts, type FilePayload, type TrustStack } from './trust-helpers.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const KEY = 'Bn6^Fj2*Ty';

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

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A real, valid 20,000 × 20,000 PNG (1-bit grey, all black): 50 MB of scanlines deflate to ~50 KB. */
function hugePng(side = 20_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, filter 0, no interlace
  const scanlines = Buffer.alloc(side * (1 + Math.ceil(side / 8))); // filter byte 0 + zero bits per row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(scanlines, { level: 9 })), pngChunk('IEND', Buffer.alloc(0))]);
}

const tinyPng = (width: number, height: number) =>
  Buffer.from(encodePng({ width, height, data: new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 37) & 0xff)), channels: 4, depth: 8 }));

/** Start of image, a scan header, entropy-coded bytes without any frame or tables, end of image: walks fine, decodes to nothing. */
function undecodableJpeg(): Buffer {
  const body = Buffer.from(Array.from({ length: 3_000 }, (_, i) => ((i * 73 + 11) % 251) & 0xfe));
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]), body, Buffer.from([0xff, 0xd9])]);
}

/** Protects `files` with `key` after a fresh load; resolves with the cards' texts or the alert's text. */
async function protect(page: Page, files: FilePayload | FilePayload[], key: string): Promise<{ ok: true; cards: string[] } | { ok: false; alert: string }> {
  await page.goto(`${stack.appUrl}/#/protect`);
  await page.reload();
  await pickFiles(page, stack.appUrl, files, key);
  await page.getByRole('button', { name: /^Protect/ }).click();
  const count = Array.isArray(files) ? files.length : 1;
  const cards = page.locator('section[data-record-id]');
  const alert = page.getByRole('alert');
  await expect(cards.nth(count - 1).or(alert)).toBeVisible({ timeout: 60_000 });
  if (await alert.isVisible()) return { ok: false, alert: (await alert.textContent())!.replace(/\s+/g, ' ').trim() };
  await expect(cards).toHaveCount(count);
  return { ok: true, cards: (await cards.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim()) };
}

/** After a failure nothing may have been added; after a success, whole records only. */
async function expectWholeRecords(page: Page, records: number, fragments: number) {
  const dump = await dumpIndexedDb(page);
  expect({ records: dump.counts.records, fragments: dump.counts.fragments }).toEqual({ records, fragments });
  const rows = dump.items.filter((i) => i.store === 'fragments').map((i) => JSON.parse(i.json) as { blob: unknown });
  expect(rows.every((r) => r.blob !== null)).toBe(true);
  const outbox = dump.items.filter((i) => i.store === 'outbox').map((i) => JSON.parse(i.json) as { recordId: string });
  const ids = new Set(dump.items.filter((i) => i.store === 'records').map((i) => JSON.parse(i.json).recordId as string));
  expect(outbox.every((o) => ids.has(o.recordId))).toBe(true);
}

test('odd files: empty, one pixel, corrupt or fake images, 20,000 × 20,000 pixels — each works, or says why and can be kept as a file', async ({ page }) => {
  const cases: { file: FilePayload; expect: RegExp; ok: boolean }[] = [
    { file: { name: 'empty-note.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) }, ok: true, expect: /File: its bytes were encrypted/ },
    { file: { name: 'one-pixel.png', mimeType: 'image/png', buffer: tinyPng(1, 1) }, ok: true, expect: /Image 1×1: its pixels were encrypted/ },
    // Garbage with a .jpg name and type: not a JPEG by its bytes, so it is kept as a file, exactly.
    { file: { name: 'xray.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * 131 + 7) & 0xff)) }, ok: true, expect: /File: its bytes were encrypted/ },
    // Claims to be a PNG, is a PDF.
    { file: { name: 'scan.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n') }, ok: true, expect: /File: its bytes were encrypted/ },
    // A JPEG by its markers that no decoder can read.
    { file: { name: 'broken-scan.jpg', mimeType: 'image/jpeg', buffer: undecodableJpeg() }, ok: false, expect: /This image could not be read; it may be damaged/ },
    // Larger than any canvas (decode-image.ts refuses above 16384² pixels before decoding).
    { file: { name: 'huge.png', mimeType: 'image/png', buffer: hugePng() }, ok: false, expect: /20000×20000 pixels, too large to decode on this device/ },
  ];
  let records = 0;
  let fragments = 0;
  const outcomes: string[] = [];
  for (const c of cases) {
    const result = await protect(page, c.file, KEY);
    expect(result.ok, `${c.file.name}: ${JSON.stringify(result)}`).toBe(c.ok);
    if (result.ok) {
      expect(result.cards[0]).toMatch(c.expect);
      records += 1;
      fragments += KEY.length + 2; // n data objects and the app's 2 parity objects (APP_PARITY, issue 17)
    } else {
      expect(result.alert).toMatch(c.expect);
      await expectWholeRecords(page, records, fragments);
      // The way out the message offers: keep the original bytes.
      await page.getByRole('button', { name: `Protect “${c.file.name}” as a file` }).click();
      await expect(page.locator('section[data-record-id]', { hasText: c.file.name })).toContainText('File: its bytes were encrypted', { timeout: 60_000 });
      records += 1;
      fragments += KEY.length + 2; // n data objects and the app's 2 parity objects (APP_PARITY, issue 17)
    }
    await expectWholeRecords(page, records, fragments);
    outcomes.push(`${c.file.name}: ${result.ok ? 'protected' : `"${result.alert.slice(0, 70)}…", then protected as a file`}`);
  }

  // What was protected opens again, byte for byte (the empty file too).
  await page.goto(`${stack.appUrl}/#/records`);
  for (const c of cases.filter((x) => !x.file.name.endsWith('one-pixel.png'))) {
    await page.goto(`${stack.appUrl}/#/records`);
    await page.locator('li[data-record-id]', { hasText: c.file.name }).getByRole('button', { name: 'Open' }).click();
    // The sequence key is never stored: after a reload the person types it again.
    await page.locator('#seq').fill(KEY);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const save = page.getByRole('link', { name: 'Save the original file' });
    await expect(save).toBeVisible({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect((await readFile((await download.path())!)).equals(c.file.buffer), c.file.name).toBe(true);
  }
  console.log(`odd files: ${outcomes.join('; ')}`);
});

/** Entries of the engine's scratch directory in the origin-private file system. */
function scratchEntries(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    try {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('ehr-vault-scratch');
      const names: string[] = [];
      for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      return names;
    } catch {
      return [];
    }
  });
}

test('a 70 MiB file goes through the worker pool in the real app (production build, CSP), is uploaded, and opens byte for byte through a scratch file', async ({ page }) => {
  const dir = await mkdtemp(join(tmpdir(), 'ehrv-large-'));
  const path = join(dir, 'ct-study-export.bin');
  const bytes = randomBytes(70 * 1024 * 1024 + 333);
  await writeFile(path, bytes);
  try {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${stack.appUrl}/#/protect`);
    await pickFiles(page, stack.appUrl, path, KEY);
    await page.getByRole('button', { name: /^Protect/ }).click();
    const card = page.locator('section[data-record-id]', { hasText: 'ct-study-export.bin' });
    await expect(card).toContainText('File: its bytes were encrypted', { timeout: 120_000 });
    await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 120_000 });
    // Protect keeps fragments in memory (IndexedDB may store them by reference): no scratch file.
    expect(await scratchEntries(page)).toEqual([]);
    await page.goto(`${stack.appUrl}/#/records`);
    await page.locator('li[data-record-id]', { hasText: 'ct-study-export.bin' }).getByRole('button', { name: 'Open' }).click();
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const save = page.getByRole('link', { name: 'Save the original file' });
    await expect(save).toBeVisible({ timeout: 120_000 });
    // The opened file is one scratch file until the next open (or lock).
    expect(await scratchEntries(page)).toHaveLength(1);
    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect((await readFile((await download.path())!)).equals(bytes)).toBe(true);
    expect(violations).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('names with path characters, RTL text and emoji, under a sequence key with emoji and a combining accent', async ({ page }) => {
  const files: FilePayload[] = [
    { name: '../../etc/passwd', mimeType: 'text/plain', buffer: Buffer.from('root:x:0:0:root:/root:/bin/bash\n') },
    { name: 'a/b\\c.txt', mimeType: 'text/plain', buffer: Buffer.from('slashes') },
    { name: 'שלום.txt', mimeType: 'text/plain', buffer: Buffer.from('shalom') },
    { name: 'invoice\u202Efdp.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ not really') },
    { name: '😀.png', mimeType: 'image/png', buffer: tinyPng(3, 2) },
  ];
  // "cafe" + U+0301 is "café" after NFC: 9 characters, two of them outside ASCII and one outside the BMP.
  const key = 'cafe\u0301😀Z9#q';
  const before = await vaultCounts(page).catch(() => ({ records: 0, fragments: 0, outbox: 0 }));
  const result = await protect(page, files, key);
  expect(result.ok, JSON.stringify(result)).toBe(true);
  expect(await vaultCounts(page)).toMatchObject({ records: before.records + files.length, fragments: before.fragments + files.length * (9 + 2) }); // n = 9 data objects and the app's 2 parity objects each (APP_PARITY, issue 17)

  await page.goto(`${stack.appUrl}/#/records`);
  await expect.poll(() => page.locator('li[data-record-id] strong').allTextContents()).toEqual(expect.arrayContaining(files.map((f) => f.name)));

  // Saved files get a name the browser made safe; their bytes are exact.
  const saved: string[] = [];
  for (const f of files.slice(0, 2)) {
    await page.goto(`${stack.appUrl}/#/records`);
    await page.locator('li[data-record-id]').filter({ has: page.getByText(f.name, { exact: true }) }).getByRole('button', { name: 'Open' }).click();
    await expect(page.locator('#seq')).toHaveValue(key.normalize('NFC'));
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const save = page.getByRole('link', { name: 'Save the original file' });
    await expect(save).toBeVisible({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
    expect(download.suggestedFilename()).not.toMatch(/[/\\]/);
    expect(download.suggestedFilename()).not.toMatch(/^\.+$/);
    saved.push(`${f.name} → ${download.suggestedFilename()}`);
    expect((await readFile((await download.path())!)).equals(f.buffer)).toBe(true);
  }
  await page.goto(`${stack.appUrl}/#/records`);
  await page.locator('li[data-record-id]').filter({ has: page.getByText('😀.png', { exact: true }) }).getByRole('button', { name: 'Open' }).click();
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText('3×2 pixels, verified.')).toBeVisible();
  console.log(`hostile names: saved as ${saved.join(', ')}`);
});

test('sequence keys with combining marks, emoji, joiners and odd blanks: the field says why', async ({ page }) => {
  await pickFiles(page, stack.appUrl, { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('x') }, '');
  const field = page.locator('ev-sequence-key-field');
  const status = field.locator('#key-status');
  const button = page.getByRole('button', { name: /^Protect/ });
  const refused: [string, RegExp][] = [
    ['q\u0301wertyuio', /U\+0301 is a combining mark/], // no precomposed q-acute: a lone mark stays
    ['👨\u200D👩\u200D👧abcdefgh', /U\+200D is an invisible formatting character/], // a family emoji is joined by ZWJ
    ['❤\uFE0Fabcdefgh', /U\+FE0F is a combining mark/], // emoji presentation selector
    ['😀😀abcdefgh', /'😀' is used more than once/],
    ['Zq9#\u00A0xyz12', /space or other blank at position 5/],
    ['ab\u200Bcdefghi', /U\+200B is an invisible formatting character/],
  ];
  for (const [key, reason] of refused) {
    await field.locator('input').fill(key);
    await expect(status).toContainText(reason);
    await expect(button).toBeDisabled();
  }
  const accepted: [string, number][] = [
    ['cafe\u0301Z9#qW', 9], // NFC composes e + U+0301 into one character
    ['🙂🙃🤔🤖abcd', 8],
    ['שלום123!', 8],
  ];
  for (const [key, n] of accepted) {
    await field.locator('input').fill(key);
    await expect(status).toContainText(`split into ${n} fragments`);
    await expect(button).toBeEnabled();
  }
  expect(await vaultCounts(page)).toEqual({ records: 0, fragments: 0, outbox: 0 });
});

test('pasted share texts: line breaks and blanks still open; a wrong or missing character is KEY_TEXT_INVALID, and nothing is saved', async ({ page, browser }) => {
  const result = await protect(page, { name: 'share-me.txt', mimeType: 'text/plain', buffer: Buffer.from('shared record') }, KEY);
  expect(result.ok).toBe(true);
  const card = page.locator('section[data-record-id]').first();
  // The share text is offered once the record is in the cloud.
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  await card.getByRole('button', { name: 'Show', exact: true }).click();
  const shareText = (await card.locator('code[data-secret]').textContent())!.trim();

  // Another device: a fresh profile.
  const context = await newAppContext(browser);
  const other = await context.newPage();
  await other.goto(`${stack.appUrl}/#/open`);
  const alert = other.locator('[role="alert"][data-error-code]');
  const open = async (text: string) => {
    await other.goto(`${stack.appUrl}/#/open`);
    await other.reload();
    await other.locator('#share').fill(text);
    await other.locator('#seq').fill(KEY);
    await other.getByRole('button', { name: 'Open', exact: true }).click();
  };

  const keyText = shareText.slice(shareText.lastIndexOf(':') + 1);
  const at = keyText.length - 5;
  const swapped = keyText[at] === 'A' ? 'B' : 'A';
  const wrong = shareText.slice(0, shareText.length - keyText.length) + keyText.slice(0, at) + swapped + keyText.slice(at + 1);
  for (const bad of [wrong, shareText.slice(0, -1), shareText.replace('ehrvk1.', 'ehrvk1.x')]) {
    await open(bad);
    await expect(alert).toHaveAttribute('data-error-code', 'KEY_TEXT_INVALID', { timeout: 30_000 });
    await expect(alert).toContainText('This is not a complete share text.');
    await expect(alert.getByRole('button', { name: 'Check the share text' })).toBeVisible();
    expect(await vaultCounts(other)).toEqual({ records: 0, fragments: 0, outbox: 0 });
  }

  // As pasted from a chat or an e-mail: wrapped lines, indentation, a full stop at the end.
  const wrapped = `  ${shareText.match(/.{1,12}/g)!.join('\n   ')}.\n`;
  await open(wrapped);
  await expect(other.getByRole('link', { name: 'Save the original file' })).toBeVisible({ timeout: 60_000 });
  await expect(alert).toHaveCount(0);
  await context.close();
});
