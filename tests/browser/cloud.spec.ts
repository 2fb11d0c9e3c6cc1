/**
 * Cloud storage in a real browser: IndexedDB outbox, Web Locks runner, XHR uploads to the real presign
 * service and embedded S3 (started here on ephemeral ports, allowing the Vite test origin).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { expect, test, type Page, type Route } from '@playwright/test';
import { toBase64Url, fromHex } from '../../src/core/bytes.js';
import { encodeKeyText } from '../../src/core/key-text.js';
import { startStack, type Stack } from '../../server/start.js';

const VITE_ORIGIN = `http://127.0.0.1:${Number(process.env.EHRV_TEST_PORT ?? 5199)}`;
const SEQUENCE_KEY = 'Qx7#mZ2!pL';
const FILE_NAME = 'jane-doe-cardiology-report-1984.pdf';

let stack: Stack;
let dataDir: string;
let tempRoot: string;

test.beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), 'ehrv-cloud-spec-'));
  dataDir = join(tempRoot, 's3');
  stack = await startStack({ appPort: 0, distDir: tempRoot, localS3: { port: 0, dataDir }, appOrigins: [VITE_ORIGIN], rateLimit: { burst: 1_000, perSecond: 100 } });
});

test.afterAll(async () => {
  await stack?.close();
  await rm(tempRoot, { recursive: true, force: true });
});

/** The bucket as s3rver keeps it on disk: one file per object. */
async function storedObjects(): Promise<Map<string, Buffer>> {
  const root = join(dataDir, 'ehr-vault');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('._S3rver_object'));
  const out = new Map<string, Buffer>();
  for (const file of files) out.set(file.slice(0, -'._S3rver_object'.length).split(sep).join('/'), await readFile(join(root, file)));
  return out;
}

function plaintextSample(size: number): Buffer {
  const marker = Buffer.from(`PATIENT Jane Doe, DOB 1970-01-01, diagnosis: confidential. `);
  const bytes = randomBytes(size);
  for (let at = 0; at + marker.length < size; at += 4_096) marker.copy(bytes, at);
  return bytes;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const sha256Base64 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

async function openHarness(page: Page, dbName: string) {
  await page.goto('/tests/browser/cloud-harness.html');
  await page.waitForSelector('body[data-ready="true"]');
  await page.evaluate((o) => window.cloud.init(o), { dbName, presignUrl: `${stack.appUrl}/api/presign`, token: stack.token! });
}

function protect(page: Page, plaintext: Buffer) {
  return page.evaluate((o) => window.cloud.protectAndStore(o), { base64: plaintext.toString('base64'), name: FILE_NAME, mime: 'application/pdf', sequenceKey: SEQUENCE_KEY });
}

/**
 * Controls the browser's requests to the object store: `gate` lets `allow` PUTs through and holds every
 * later one (never answered, like a stuck uplink); `offline` fails every request the way a dropped
 * connection does (Playwright's interception runs before its offline emulation); `open` passes all.
 */
async function controlStore(page: Page, allow: number) {
  const held: Route[] = [];
  let passed = 0;
  let mode: 'gate' | 'offline' | 'open' = 'gate';
  const s3 = new URL(stack.s3Url);
  await page.route((url) => url.host === s3.host, async (route) => {
    const isPut = route.request().method() === 'PUT';
    if (mode === 'offline') return route.abort('internetdisconnected');
    if (mode === 'open' || !isPut || passed < allow) {
      if (isPut) passed += 1;
      return route.continue();
    }
    held.push(route);
  });
  return {
    held,
    async setMode(next: 'gate' | 'offline' | 'open') {
      mode = next;
      // Held requests get what a new request would get now.
      for (const route of held.splice(0)) {
        await (next === 'offline' ? route.abort('internetdisconnected') : route.continue()).catch(() => undefined);
      }
    },
  };
}

async function expectStoredAndOpens(page: Page, record: { recordId: string; recordKeyHex: string; n: number }, plaintext: Buffer, dbName: string) {
  const catalog = await page.evaluate((id) => window.cloud.catalog(id), record.recordId);
  expect(catalog).toHaveLength(record.n);
  const objects = await storedObjects();
  const mine = [...objects.keys()].filter((k) => catalog.some((c) => k === `users/dev/fragments/${c.objectName}`));
  // Every fragment exactly once, under its own name, with the bytes the catalog recorded.
  expect(mine.sort()).toEqual(catalog.map((c) => `users/dev/fragments/${c.objectName}`).sort());
  for (const c of catalog) expect(sha256Base64(objects.get(`users/dev/fragments/${c.objectName}`)!)).toBe(c.sha256);
  const opened = await page.evaluate((o) => window.cloud.fetchAndOpen(o), { ...record, sequenceKey: SEQUENCE_KEY, dbName });
  expect(opened).toEqual({ sha256: sha256Hex(plaintext), name: FILE_NAME, size: plaintext.length });
}

test.describe('cloud: outbox uploads from the browser', () => {
  test('a page reload in the middle of an upload resumes and completes', async ({ page }) => {
    const plaintext = plaintextSample(400_000);
    await openHarness(page, 'reload-test');
    const store = await controlStore(page, 3);
    const record = await protect(page, plaintext);
    expect(record.n).toBe(SEQUENCE_KEY.length);
    await expect.poll(async () => (await page.evaluate((id) => window.cloud.status(id), record.recordId)).sync?.uploaded).toBe(3);
    await expect.poll(() => store.held.length).toBeGreaterThan(0);
    const before = await page.evaluate((id) => window.cloud.status(id), record.recordId);
    expect(before.counts.inFlight).toBeGreaterThan(0);

    // Reload while uploads are in flight: the page (and its runner) is gone mid-transfer.
    const held = store.held.splice(0);
    await store.setMode('open');
    await page.reload();
    for (const route of held) await route.abort().catch(() => undefined);
    await page.waitForSelector('body[data-ready="true"]');
    await page.evaluate((o) => window.cloud.init(o), { dbName: 'reload-test', presignUrl: `${stack.appUrl}/api/presign`, token: stack.token! });

    await expect.poll(async () => (await page.evaluate((id) => window.cloud.status(id), record.recordId)).sync?.state, { timeout: 60_000 }).toBe('synced');
    const after = await page.evaluate((id) => window.cloud.status(id), record.recordId);
    expect(after.counts).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    expect(after.sync?.uploaded).toBe(record.n);
    await expectStoredAndOpens(page, record, plaintext, 'reload-test-reader');
  });

  test('going offline mid-upload pauses, and coming back online completes', async ({ page, context }) => {
    const plaintext = plaintextSample(300_000);
    await openHarness(page, 'offline-test');
    const store = await controlStore(page, 3);
    const record = await protect(page, plaintext);
    await expect.poll(async () => (await page.evaluate((id) => window.cloud.status(id), record.recordId)).sync?.uploaded).toBe(3);
    await expect.poll(() => store.held.length).toBeGreaterThan(0);

    await context.setOffline(true);
    await store.setMode('offline');
    await expect.poll(async () => (await page.evaluate((id) => window.cloud.status(id), record.recordId)).runner).toBe('offline');
    const offline = await page.evaluate((id) => window.cloud.status(id), record.recordId);
    expect(offline.sync?.uploaded).toBe(3);
    // Nothing failed: the entries wait, pending, with no attempt held against them.
    expect(offline.counts).toEqual({ pending: record.n - 3, inFlight: 0, failed: 0 });

    await store.setMode('open');
    await context.setOffline(false);
    await expect.poll(async () => (await page.evaluate((id) => window.cloud.status(id), record.recordId)).sync?.state, { timeout: 60_000 }).toBe('synced');
    const states = await page.evaluate(() => window.cloud.events.filter((e) => e.type === 'state').map((e) => (e.detail as { state: string }).state));
    expect(states).toContain('offline');
    expect(states.lastIndexOf('uploading')).toBeGreaterThan(states.indexOf('offline'));
    await expectStoredAndOpens(page, record, plaintext, 'offline-test-reader');
  });

  test('no request carries the plaintext, the record key, the sequence key or the file name', async ({ page }) => {
    const plaintext = plaintextSample(250_000);
    const sent: { method: string; url: string; headers: string; body: Buffer | null }[] = [];
    page.on('request', (request) => {
      sent.push({ method: request.method(), url: request.url(), headers: JSON.stringify(request.headers()), body: request.postDataBuffer() });
    });
    await openHarness(page, 'privacy-test');
    const record = await protect(page, plaintext);
    await expect.poll(async () => (await page.evaluate((id) => window.cloud.status(id), record.recordId)).sync?.state, { timeout: 60_000 }).toBe('synced');

    const recordKey = fromHex(record.recordKeyHex);
    const texts = [
      record.recordKeyHex,
      record.recordKeyHex.toUpperCase(),
      Buffer.from(recordKey).toString('base64'),
      Buffer.from(recordKey).toString('base64').replace(/=+$/, ''),
      toBase64Url(recordKey),
      encodeKeyText(recordKey),
      SEQUENCE_KEY,
      encodeURIComponent(SEQUENCE_KEY),
      FILE_NAME,
      encodeURIComponent(FILE_NAME),
      'Jane Doe',
    ];
    // Raw bytes too: the key itself, and 48-byte windows of the plaintext at many places.
    const needles = [Buffer.from(recordKey), ...texts.map((t) => Buffer.from(t)), ...Array.from({ length: 64 }, (_, i) => plaintext.subarray(i * 3_900 + 17, i * 3_900 + 65))];

    const puts = sent.filter((r) => r.method === 'PUT');
    expect(puts.length).toBe(record.n);
    expect(sent.some((r) => r.method === 'POST' && r.url.endsWith('/api/presign') && r.body !== null)).toBe(true);
    // URLs, headers and every body Playwright exposes (presign JSON, config GETs)...
    for (const request of sent) {
      const haystack = Buffer.concat([Buffer.from(request.url), Buffer.from(decodeURIComponent(request.url)), Buffer.from(request.headers), request.body ?? Buffer.alloc(0)]);
      for (const needle of needles) expect(haystack.includes(needle), `${request.method} ${request.url.slice(0, 80)}`).toBe(false);
    }
    // ...and the PUT bodies, which Playwright does not expose for Blob uploads: each PUT's signed
    // Content-Length makes the stored object exactly the body that was sent, so read them there.
    const objects = await storedObjects();
    for (const put of puts) {
      const key = new URL(put.url).pathname.replace(/^\/ehr-vault\//, '');
      const body = objects.get(key);
      expect(body, key).toBeDefined();
      for (const needle of needles) expect(body!.includes(needle), key).toBe(false);
    }
  });

  test('two tabs: one outbox runner (Web Locks); every fragment is PUT exactly once', async ({ context }) => {
    const plaintext = plaintextSample(200_000);
    const [first, second] = [await context.newPage(), await context.newPage()];
    const puts: string[] = [];
    for (const tab of [first, second]) tab.on('request', (r) => r.method() === 'PUT' && puts.push(new URL(r.url()).pathname));
    await openHarness(first, 'two-tabs');
    await openHarness(second, 'two-tabs');
    const runnerState = (tab: Page) => tab.evaluate(() => window.cloud.status('').then((s) => s.runner));
    await expect.poll(async () => [await runnerState(first), await runnerState(second)].sort()).toEqual(['idle', 'waiting-for-lock']);
    const waiting = (await runnerState(first)) === 'waiting-for-lock' ? first : second;

    // Queued in the tab without the lock: the runner in the other tab hears of it and uploads.
    const record = await protect(waiting, plaintext);
    await expect.poll(async () => (await first.evaluate((id) => window.cloud.status(id), record.recordId)).sync?.state, { timeout: 60_000 }).toBe('synced');
    expect(puts).toHaveLength(record.n);
    expect(new Set(puts).size).toBe(record.n);
    await expectStoredAndOpens(first, record, plaintext, 'two-tabs-reader');
  });
});
