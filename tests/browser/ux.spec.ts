/**
 * Issue 16, end to end on the built app: first run, the sequence key up front, a share card without the
 * key's characters, records search / sort / filter and a virtualized list, a modal delete dialog, GIF and
 * TIFF viewing, errors with a next step, no sideways scroll at 360 px, and axe on every view in light
 * and dark at three sizes (each captured for a person to look at).
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { startAppStack, type AppStack } from './app-stack.js';
import { newAppContext } from './app-helpers.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const PHOTO = new URL('photo-board.jpg', FIXTURES).pathname;
const GIF = new URL('animated.gif', FIXTURES).pathname;
const TIFF = new URL('scan.tiff', FIXTURES).pathname;
const KEY = 'Xy7#kQ2mLp';
const PHONE = { width: 360, height: 740 };
const SIZES = { phone: PHONE, tablet: { width: 820, height: 1180 }, desktop: { width: 1280, height: 800 } } as const;

let stack: AppStack;
/** One device with three protected records, shared by the tests below. */
let device: BrowserContext;
let page: Page;
const shareTexts = new Map<string, string>();

test.describe.configure({ mode: 'serial' });
test.beforeAll(async ({ browser }) => {
  stack = await startAppStack();
  device = await newAppContext(browser, { viewport: PHONE, isMobile: true, hasTouch: true });
  await device.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.appUrl });
  page = await device.newPage();
});
test.afterAll(async () => {
  await device?.close();
  await stack?.close();
});

/** Horizontal overflow of the page in CSS pixels (0 when nothing scrolls sideways). */
function sideways(p: Page): Promise<number> {
  return p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

async function axe(p: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page: p }).analyze();
  return results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** A fresh Records view (a hash change to the same view would keep its search and filters). */
async function gotoRecords(p: Page): Promise<void> {
  await p.goto(`${stack.appUrl}/#/protect`);
  await p.goto(`${stack.appUrl}/#/records`);
}

async function records(p: Page): Promise<string[]> {
  return p.locator('ev-records-view li[data-record-id] .title').allTextContents();
}

test('first launch shows the introduction, which explains the sequence key; it can be skipped and comes back from Help', async ({ browser }) => {
  const fresh = await browser.newContext({ viewport: PHONE });
  const p = await fresh.newPage();
  await p.goto(`${stack.appUrl}/#/protect`);
  const dialog = p.locator('ev-intro-dialog dialog');
  await expect(dialog).toBeVisible();
  expect(await dialog.evaluate((d) => d.matches(':modal'))).toBe(true);
  await dialog.getByRole('button', { name: 'Next' }).click();
  await expect(dialog.getByRole('heading')).toHaveText('Two secrets open a record');
  await expect(dialog).toContainText('The sequence key');
  await expect(dialog).toContainText('Remember your sequence key');
  expect(await axe(p)).toEqual([]);
  expect(await sideways(p)).toBe(0);
  await dialog.getByRole('button', { name: 'Skip introduction' }).click();
  await expect(dialog).toBeHidden();
  await p.reload();
  await expect(p.locator('ev-protect-view')).toBeVisible();
  await expect(dialog).toBeHidden();
  await p.getByRole('button', { name: 'Help' }).click();
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading')).toHaveText('Your records are locked on this phone first');
  await p.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await fresh.close();
});

test('the sequence key comes first, with Generate, Show/Hide and Copy, and a pasted key is trimmed', async () => {
  await page.goto(`${stack.appUrl}/#/protect`);
  const field = page.locator('ev-sequence-key-field');
  const input = field.locator('input');
  // Before any file is chosen, with the sentence that says what it is for.
  await expect(input).toBeVisible();
  await expect(page.locator('ev-protect-view')).toContainText('Whoever opens the record needs it');
  await field.getByRole('button', { name: 'Generate' }).click();
  const generated = await input.inputValue();
  expect(generated.length).toBeGreaterThanOrEqual(8);
  await expect(input).toHaveAttribute('type', 'text');
  await field.getByRole('button', { name: 'Hide' }).click();
  await expect(input).toHaveAttribute('type', 'password');
  await field.getByRole('button', { name: 'Copy' }).click();
  await expect(field.getByRole('button', { name: 'Copied' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(generated);

  await input.fill(`  ${KEY} `);
  await expect(input).toHaveValue(KEY);
  await expect(field.locator('#key-status')).toContainText('10 fragments');
  // Kept across views until the lock when asked to.
  await page.getByLabel('Keep using this key until I lock the app').check();
  await page.goto(`${stack.appUrl}/#/settings`);
  await page.goto(`${stack.appUrl}/#/protect`);
  await expect(input).toHaveValue(KEY);
  await field.getByRole('button', { name: 'Show' }).click();
  await expect(input).toHaveAttribute('type', 'text');
});

test('three records are protected; the share card shows neither the sequence key nor its characters', async () => {
  await page.locator('#pick').setInputFiles([PHOTO, GIF, TIFF]);
  await page.getByRole('button', { name: 'Protect 3 files' }).click();
  const cards = page.locator('section[data-record-id]');
  await expect(cards).toHaveCount(3, { timeout: 90_000 });
  for (const card of await cards.all()) {
    await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
    await card.getByRole('button', { name: 'Show', exact: true }).click();
    const shareText = (await card.locator('code[data-secret]').textContent())!.trim();
    shareTexts.set((await card.locator('h3').first().textContent())!.trim(), shareText);
    // Everything the card shows, shadow roots included.
    const text = await card.evaluate((el) => {
      const parts: string[] = [];
      const walk = (node: Node) => {
        if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
        if (node instanceof Element && node.shadowRoot) node.shadowRoot.childNodes.forEach(walk);
        node.childNodes.forEach(walk);
      };
      walk(el);
      return parts.join(' ');
    });
    expect(text).not.toContain(KEY);
    const fragmentLabels = await card.locator('ev-fragment-list li strong').allTextContents();
    // n fragments and the app's 2 parity objects (APP_PARITY, issue 17).
    expect(fragmentLabels).toEqual(Array.from({ length: KEY.length + 2 }, (_, i) => `Part ${i + 1}`));
    await expect(card.locator('ev-sequence-key-field')).toHaveCount(0);
  }
  expect(shareTexts.size).toBe(3);
  // The kept key is still there for the next record, but back to dots next to the share cards.
  await expect(page.locator('ev-sequence-key-field input')).toHaveValue(KEY);
  await expect(page.locator('ev-sequence-key-field input')).toHaveAttribute('type', 'password');
  // The backup step follows the first record.
  await expect(page.locator('[data-backup-prompt]')).toContainText('save an encrypted backup');
  expect(await sideways(page)).toBe(0);
});

test('search narrows the three records by a partial name; sort and filters work', async () => {
  await page.goto(`${stack.appUrl}/#/records`);
  await expect.poll(() => records(page)).toHaveLength(3);
  // A thumbnail made on this device for the photo.
  await expect(page.locator('li[data-record-id]').filter({ hasText: 'photo-board.jpg' }).locator('img.thumb')).toHaveJSProperty('naturalWidth', 96);
  await page.getByLabel('Search').fill('boar');
  await expect.poll(() => records(page)).toEqual(['photo-board.jpg']);
  await page.getByLabel('Search').fill('');
  await page.getByLabel('Sort').selectOption('name');
  await expect.poll(() => records(page)).toEqual(['animated.gif', 'photo-board.jpg', 'scan.tiff']);
  await page.getByLabel('Kind').selectOption('file');
  await expect.poll(() => records(page)).toEqual(['animated.gif', 'scan.tiff']);
  await page.getByLabel('Kind').selectOption('all');
  await page.getByLabel('State').selectOption('failed');
  await expect.poll(() => records(page)).toEqual([]);
  await page.getByRole('button', { name: 'Show all' }).click();
  await expect.poll(() => records(page)).toHaveLength(3);
  expect(await sideways(page)).toBe(0);
});

test('a title and notes can be given to a record, and search finds them', async () => {
  await page.goto(`${stack.appUrl}/#/records`);
  const item = page.locator('li[data-record-id]').filter({ hasText: 'photo-board.jpg' });
  await item.getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: 'Title', exact: true }).fill('Knee X-ray 2026');
  await page.getByRole('textbox', { name: 'Notes', exact: true }).fill('Dr. Weber, left knee');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => records(page)).toContain('Knee X-ray 2026');
  await page.getByLabel('Search').fill('weber');
  await expect.poll(() => records(page)).toEqual(['Knee X-ray 2026']);
  await page.getByLabel('Search').fill('');
});

test('the delete confirmation is modal: the safe choice has the focus, focus stays inside, Escape closes it', async () => {
  await gotoRecords(page);
  const item = page.locator('li[data-record-id]').filter({ hasText: 'scan.tiff' });
  await item.getByRole('button', { name: 'Delete…' }).click();
  const dialog = page.locator('ev-confirm-dialog dialog');
  await expect(dialog).toBeVisible();
  expect(await dialog.evaluate((d) => d.matches(':modal'))).toBe(true);
  const focused = () => page.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return `${active?.closest('dialog') ? 'inside' : 'outside'}:${active?.textContent?.trim()}`;
  });
  expect(await focused()).toBe('inside:Keep it');
  const order = await dialog.locator('button').allTextContents();
  expect(order[0]).toBe('Keep it');
  expect(order.at(-1)).toBe('Delete here and in the cloud');
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Tab');
    expect(await focused()).toMatch(/^inside:/);
  }
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect.poll(() => records(page)).toHaveLength(3);
});

test('GIF and TIFF records show an image: the GIF’s first frame and its animation, the TIFF’s page', async () => {
  for (const name of ['animated.gif', 'scan.tiff']) {
    await gotoRecords(page);
    await page.locator('li[data-record-id]').filter({ hasText: name }).getByRole('button', { name: 'Open' }).click();
    await expect(page.locator('#seq')).toHaveValue(KEY);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    const shown = page.locator('ev-image-file-view [data-image-shown]');
    await expect(shown).toBeVisible({ timeout: 60_000 });
    const canvas = shown.locator('canvas');
    await expect(canvas).toHaveJSProperty('width', name === 'scan.tiff' ? 64 : await canvas.evaluate((c: HTMLCanvasElement) => c.width));
    expect(await canvas.evaluate((c: HTMLCanvasElement) => c.width * c.height)).toBeGreaterThan(0);
    await expect(page.locator('[data-image-damaged]')).toHaveCount(0);
    if (name === 'animated.gif') {
      await page.getByRole('button', { name: 'Play animation' }).click();
      const img = page.locator('ev-image-file-view img[data-image-shown]');
      await expect(img).toBeVisible();
      await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);
    }
    expect(await sideways(page)).toBe(0);
  }
});

test('errors say what to do next: not found, wrong key and a refused token each name a step; no ghost record stays', async ({ browser }) => {
  const other = await newAppContext(browser, { viewport: PHONE });
  const p = await other.newPage();
  const photoShare = shareTexts.get('photo-board.jpg')!;
  // A well-formed share text for a record id that does not exist.
  const unknown = photoShare.replace(/^(ehrv1:)(.)/, (_m, prefix: string, c: string) => `${prefix}${c === 'A' ? 'B' : 'A'}`);
  await p.goto(`${stack.appUrl}/#/open`);
  await p.locator('#share').fill(`${unknown}\n`);
  await p.locator('#seq').fill(`${KEY} `);
  await p.getByRole('button', { name: 'Open', exact: true }).click();
  const alert = p.locator('[role="alert"][data-error-code]');
  await expect(alert).toHaveAttribute('data-error-kind', /not-found|KEY_TEXT_INVALID|WRONG_RECORD_KEY/, { timeout: 60_000 });
  await expect(alert.getByRole('button').first()).toBeVisible();

  // The right share text with a wrong sequence key: a button takes the person back to the key.
  await p.locator('#share').fill(` ${photoShare} `);
  await p.locator('#seq').fill('Xy7#kQ2mLq');
  await p.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(alert).toHaveAttribute('data-error-kind', /WRONG_SEQUENCE_KEY|not-found/, { timeout: 60_000 });
  await alert.getByRole('button').first().click();
  // No "locked record" is left behind by the failed opens.
  await p.goto(`${stack.appUrl}/#/records`);
  await expect(p.locator('ev-records-view')).toContainText('Nothing protected yet');

  // Then the right key, with a trailing space as pasted from a chat: it opens.
  await p.goto(`${stack.appUrl}/#/open`);
  await p.locator('#share').fill(photoShare);
  await p.locator('#seq').fill(`${KEY} `);
  await p.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(p.locator('ev-image-viewer canvas')).toBeVisible({ timeout: 60_000 });

  // A damaged JPEG is kept as a file; opened, it is shown with the reason, like any damaged image.
  await p.goto(`${stack.appUrl}/#/protect`);
  await p.locator('ev-sequence-key-field input').fill(KEY);
  await p.locator('#pick').setInputFiles(new URL('truncated.jpg', FIXTURES).pathname);
  await p.getByRole('button', { name: 'Protect file' }).click();
  await expect(p.locator('section[data-record-id]')).toContainText('File: its bytes were encrypted', { timeout: 60_000 });
  await gotoRecords(p);
  await p.locator('li[data-record-id]').filter({ hasText: 'truncated.jpg' }).getByRole('button', { name: 'Open' }).click();
  await p.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(p.locator('[data-image-damaged]')).toContainText('The file ends early', { timeout: 60_000 });
  await expect(p.getByRole('link', { name: 'Save the original file' })).toBeVisible();

  // A refused access token: the failed upload says so and offers Settings.
  await p.goto(`${stack.appUrl}/#/settings`);
  await p.locator('#presign').fill(`${stack.appUrl}/api/presign`);
  await p.locator('#token').fill('not-a-valid-token');
  await p.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(p.locator('ev-settings-view p[role="status"]')).toHaveText('Cloud settings saved.');
  await p.goto(`${stack.appUrl}/#/protect`);
  await p.locator('ev-sequence-key-field input').fill(KEY);
  await p.locator('#pick').setInputFiles(TIFF);
  await p.getByRole('button', { name: 'Protect file' }).click();
  await expect(p.locator('section[data-record-id]')).toBeVisible({ timeout: 60_000 });
  await p.goto(`${stack.appUrl}/#/records`);
  const failed = p.locator('li[data-record-id]').filter({ hasText: 'Upload failed' });
  await expect(failed).toBeVisible({ timeout: 60_000 });
  await expect(failed).toContainText('access token');
  await expect(failed.getByRole('link', { name: 'Open Settings' })).toBeVisible();
  await expect(failed.getByRole('button', { name: 'Share' })).toHaveCount(0);
  await failed.getByRole('link', { name: 'Open Settings' }).click();
  await expect(p.locator('ev-settings-view')).toBeVisible();
  await other.close();
});

test('500 records scroll without a task longer than 50 ms', async ({ browser }) => {
  const many = await newAppContext(browser, { viewport: PHONE });
  const p = await many.newPage();
  await p.goto(`${stack.appUrl}/#/protect`);
  await expect(p.locator('ev-protect-view')).toBeVisible();
  await p.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('ehr-vault');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = db.transaction('records', 'readwrite');
    const now = Date.now();
    for (let i = 0; i < 500; i++) {
      const recordId = `seed${String(i).padStart(18, '0')}`;
      tx.objectStore('records').put({ recordId, createdAt: now - i * 60_000, fragmentCount: 8, envelopeLength: 1000, fragmentSizes: [], totalBytes: 1000 + i, sync: { state: 'local', uploaded: 0, updatedAt: now, lastError: null }, wrappedKey: null, encryptedMetadata: null });
    }
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  });
  await p.goto(`${stack.appUrl}/#/records`);
  await expect(p.locator('ev-records-view [data-count="500"]')).toBeVisible({ timeout: 30_000 });
  // Only a screenful or so is in the DOM.
  expect(await p.locator('li[data-record-id]').count()).toBeLessThan(60);
  await p.waitForTimeout(500);
  await p.evaluate(() => {
    (window as unknown as { longTasks: number[] }).longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) (window as unknown as { longTasks: number[] }).longTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
  });
  // A brisk fling, about 10,000 px a second, down through some 150 records.
  for (let i = 0; i < 60; i++) {
    await p.mouse.wheel(0, 400);
    await p.waitForTimeout(40);
  }
  await p.waitForTimeout(300);
  const scrolled = await p.evaluate(() => scrollY);
  expect(scrolled).toBeGreaterThan(20_000);
  await expect(p.locator('li[data-record-id]').first()).not.toHaveAttribute('data-record-id', 'seed000000000000000000');
  expect(await p.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks.filter((d) => d > 50))).toEqual([]);
  await many.close();
});

/** Every view and state a person meets, for the overflow, axe and screenshot sweep. */
async function visitAll(p: Page, shot: (name: string) => Promise<void>) {
  await p.goto(`${stack.appUrl}/#/protect`);
  await expect(p.locator('ev-protect-view')).toBeVisible();
  await shot('protect');
  await p.locator('#pick').setInputFiles({ name: `${'Radiology-report-left-knee-MRI-with-contrast-'.repeat(3)}final.pdf`, mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
  await shot('protect-file-chosen');
  await p.locator('ev-sequence-key-field input').fill(KEY);
  await p.getByRole('button', { name: 'Protect file' }).click();
  const card = p.locator('section[data-record-id]');
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  await card.getByRole('button', { name: 'QR code' }).click();
  await shot('protect-result');
  await p.goto(`${stack.appUrl}/#/records`);
  await expect(p.locator('li[data-record-id]').first()).toBeVisible();
  await shot('records');
  await p.locator('li[data-record-id]').filter({ hasText: 'photo-board.jpg' }).getByRole('button', { name: 'Edit' }).click();
  await shot('records-edit-dialog');
  await p.keyboard.press('Escape');
  await p.locator('li[data-record-id]').filter({ hasText: 'photo-board.jpg' }).getByRole('button', { name: 'Share' }).click();
  await shot('records-share');
  await p.locator('li[data-record-id]').first().getByRole('button', { name: 'Delete…' }).click();
  await shot('records-delete-dialog');
  await p.keyboard.press('Escape');
  await p.locator('li[data-record-id]').filter({ hasText: 'photo-board.jpg' }).getByRole('button', { name: 'Open' }).click();
  // A restored backup holds no sequence key (FORMAT.md §1): the person types it. Two panes (from 800 px) show
  // the record next to the list; on a phone it has its own view.
  await p.locator('ev-open-view #seq').fill(KEY);
  await p.locator('ev-open-view').getByRole('button', { name: 'Open', exact: true }).click();
  if (p.viewportSize()!.width >= 800) await expect(p.locator('ev-records-view')).toBeVisible();
  await expect(p.locator('ev-open-view ev-image-viewer canvas')).toBeVisible({ timeout: 60_000 });
  await shot('record-open');
  // The Open tab (the chosen record is kept in memory, not in the URL, so the tab is how one leaves it).
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Open' }).click();
  await shot('open');
  await p.locator('#share').fill('ehrv1:not-a-share-text');
  await p.locator('#seq').fill(KEY);
  await p.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(p.locator('[role="alert"][data-error-code]')).toBeVisible({ timeout: 30_000 });
  await shot('open-error');
  await p.goto(`${stack.appUrl}/#/settings`);
  await expect(p.locator('#backup-passphrase')).toBeVisible();
  await shot('settings');
  await p.getByRole('button', { name: 'Help' }).click();
  await expect(p.locator('ev-intro-dialog dialog')).toBeVisible();
  await shot('intro');
  await p.keyboard.press('Escape');
}

for (const [size, viewport] of Object.entries(SIZES)) {
  test(`${size} ${viewport.width}×${viewport.height}: no sideways scroll, no axe violation, light and dark, every view captured`, async ({ browser }, info) => {
    for (const scheme of ['light', 'dark'] as const) {
      const context = await newAppContext(browser as Browser, { viewport, colorScheme: scheme, isMobile: size !== 'desktop', hasTouch: size !== 'desktop' });
      const p = await context.newPage();
      // This device has the three records (a backup restores them, as on a new phone) — reuse the first device's storage.
      await p.goto(`${stack.appUrl}/#/protect`);
      await copyRecords(page, p);
      const problems: string[] = [];
      await visitAll(p, async (name) => {
        await p.waitForTimeout(250);
        const overflow = await sideways(p);
        if (overflow > 0) problems.push(`${name}: ${overflow}px sideways`);
        for (const v of await axe(p)) problems.push(`${name}: ${v}`);
        await p.screenshot({ path: info.outputPath(`${size}-${scheme}-${name}.png`), fullPage: true });
      });
      expect(problems).toEqual([]);
      await context.close();
    }
  });
}

/** Gives `to` the records of `from` through the app's own encrypted backup (Settings → Backup). */
async function copyRecords(from: Page, to: Page) {
  await from.goto(`${stack.appUrl}/#/settings/backup`);
  await from.locator('#backup-passphrase').fill('correct horse battery staple');
  const [download] = await Promise.all([from.waitForEvent('download'), from.getByRole('button', { name: 'Export backup' }).click()]);
  await to.goto(`${stack.appUrl}/#/settings`);
  await to.locator('#backup-file').setInputFiles((await download.path())!);
  await to.locator('#backup-passphrase').fill('correct horse battery staple');
  await to.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(to.locator('ev-settings-view p[role="status"]')).toContainText('Restored', { timeout: 30_000 });
}
