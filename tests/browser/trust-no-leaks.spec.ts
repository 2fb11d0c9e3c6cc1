/**
 * No leaks, end to end, in the real app (built dist/ + presign service + embedded S3): a full session —
 * protect a photo and a DICOM file with a patient's name in their file names, wait for the upload, open
 * one in a fresh browser with the share text, open the other from Records, reveal the share texts —
 * with every request of both browsers recorded. Then nothing that left the device (URLs, headers,
 * bodies, the objects the PUTs stored), nothing in IndexedDB and nothing in the service worker's caches
 * holds plaintext, a record key, a sequence key, a file name or the image's size.
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { decodeShareText } from '../../src/core/share-text.js';
import { encodeKeyText } from '../../src/core/key-text.js';
import {
  cachedUrls,
  dumpIndexedDb,
  findLeaks,
  keyNeedles,
  openSharedThroughUi,
  plaintextWindows,
  protectThroughUi,
  recordRequests,
  startTrustStack,
  textNeedles,
  type Haystack,
  type Needle,
  type TrustStack,
  type VaultDump,
} from './trust-helpers.js';
import { newAppContext, skipIntro } from './app-helpers.js';

const PHOTO_NAME = 'Jane-Doe-chest-xray.jpg';
const DICOM_NAME = 'Jane-Doe-CT-head-1970-01-01.dcm';
const PHOTO_KEY = 'Jd7#Kq2!Xw9';
const DICOM_KEY = 'Mv4$Rt8&Zp';
/** photo-board.jpg */
const PHOTO_SIZE = { width: 720, height: 477 };

let stack: TrustStack;
let temp: string;
test.beforeAll(async () => {
  stack = await startTrustStack();
  temp = await mkdtemp(join(tmpdir(), 'ehrv-trust-files-'));
  await copyFile(new URL('../fixtures/photo-board.jpg', import.meta.url), join(temp, PHOTO_NAME));
  await copyFile(new URL('../fixtures/CT_small.dcm', import.meta.url), join(temp, DICOM_NAME));
});
// The first-run introduction is tested in ux.spec.ts.
test.beforeEach(async ({ context }) => {
  await skipIntro(context);
});
test.afterAll(async () => {
  await stack?.close();
  if (temp) await rm(temp, { recursive: true, force: true });
});

/** The photo's RGBA pixels as the app's worker decodes them (what an image record encrypts). */
async function decodedPixels(page: Page, jpeg: Buffer): Promise<Buffer> {
  const base64 = await page.evaluate(async (b64) => {
    const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    let text = '';
    for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return btoa(text);
  }, jpeg.toString('base64'));
  return Buffer.from(base64, 'base64');
}

async function serviceWorkerActive(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active!;
    if (worker.state !== 'activated') await new Promise<void>((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
  });
}

function dumpHaystacks(label: string, dump: VaultDump): Haystack[] {
  return dump.items.flatMap((item) => [
    { where: `${label} IndexedDB ${item.store} ${item.key} (fields)`, bytes: Buffer.from(item.json, 'utf8') },
    ...item.binaries.map((bytes, i) => ({ where: `${label} IndexedDB ${item.store} ${item.key} (binary #${i})`, bytes })),
  ]);
}

test('a full session sends, stores and caches no plaintext, key, sequence key, file name or image size', async ({ page, browser }) => {
  const photo = await readFile(join(temp, PHOTO_NAME));
  const dicom = await readFile(join(temp, DICOM_NAME));

  // The phone: the app under its service worker, every request of this browser recorded.
  const phone = recordRequests(page.context(), 'phone');
  await page.goto(stack.appUrl);
  await serviceWorkerActive(page);
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

  const photoRecord = await protectThroughUi(page, stack.appUrl, join(temp, PHOTO_NAME), PHOTO_KEY);
  const dicomRecord = await protectThroughUi(page, stack.appUrl, join(temp, DICOM_NAME), DICOM_KEY);
  const objects = await stack.bucket.list('');
  // n + 2 objects per record (APP_PARITY, issue 17).
  expect(objects).toHaveLength(PHOTO_KEY.length + DICOM_KEY.length + 4);

  // Another browser opens the DICOM file with its share text and gets the same bytes back.
  const laptopContext = await newAppContext(browser);
  const laptop = recordRequests(laptopContext, 'laptop');
  const laptopPage = await laptopContext.newPage();
  await openSharedThroughUi(laptopPage, stack.appUrl, dicomRecord.shareText, DICOM_KEY);
  const save = laptopPage.getByRole('link', { name: 'Save the original file' });
  await expect(save).toBeVisible({ timeout: 60_000 });
  const [download] = await Promise.all([laptopPage.waitForEvent('download'), save.click()]);
  expect((await readFile((await download.path())!)).equals(dicom)).toBe(true);

  // The phone opens the photo from its Records list (the sequence key is remembered in memory for this session, never stored).
  await page.goto(`${stack.appUrl}/#/records`);
  const item = page.locator('li[data-record-id]', { hasText: PHOTO_NAME });
  await item.getByRole('button', { name: 'Open' }).click();
  await expect(page.locator('#seq')).toHaveValue(PHOTO_KEY);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText(`${PHOTO_SIZE.width}×${PHOTO_SIZE.height} pixels, verified.`)).toBeVisible();

  // --- What to look for ---
  const pixels = await decodedPixels(page, photo);
  expect(pixels.length).toBe(PHOTO_SIZE.width * PHOTO_SIZE.height * 4);
  // The photo is opaque, so it is stored as RGB8 (FORMAT.md §13.1): look for its pixels in both layouts.
  const rgb = new Uint8Array((pixels.length / 4) * 3);
  for (let i = 0, o = 0; i < pixels.length; i += 4, o += 3) rgb.set(pixels.subarray(i, i + 3), o);
  const plaintext: Needle[] = [...plaintextWindows('photo file', photo, 12), ...plaintextWindows('photo pixels', pixels, 12), ...plaintextWindows('photo RGB pixels', rgb, 12), ...plaintextWindows('DICOM file', dicom, 12)];
  const keys: Needle[] = [];
  for (const [label, record] of [['photo record key', photoRecord], ['DICOM record key', dicomRecord]] as const) {
    const { recordKey } = decodeShareText(record.shareText);
    keys.push(...keyNeedles(label, recordKey, encodeKeyText(recordKey)), ...textNeedles(`${label}: share text`, record.shareText));
  }
  const names: Needle[] = [...textNeedles('photo file name', PHOTO_NAME), ...textNeedles('DICOM file name', DICOM_NAME), ...textNeedles('patient name', 'Jane-Doe'), ...textNeedles('patient name', 'Jane Doe')];
  const sequenceKeys: Needle[] = [...textNeedles('photo sequence key', PHOTO_KEY), ...textNeedles('DICOM sequence key', DICOM_KEY)];
  const { width, height } = PHOTO_SIZE;
  const sizes: Needle[] = [`${width}x${height}`, `${width}×${height}`, `${width} × ${height}`, `"width":${width}`, `"height":${height}`, `width=${width}`, `height=${height}`].flatMap((t) => textNeedles('image size', t));
  const recordIds: Needle[] = [photoRecord, dicomRecord].flatMap((r) => textNeedles('record id', r.recordId));
  const everything = [...plaintext, ...keys, ...names, ...sequenceKeys, ...sizes];

  // The finder works: it finds each kind of needle where it is.
  expect(findLeaks([{ where: 'photo', bytes: photo }], plaintextWindows('photo file', photo, 12))).toHaveLength(12);
  expect(findLeaks([{ where: 'pixels', bytes: pixels }], plaintextWindows('photo pixels', pixels, 12))).toHaveLength(12);
  expect(findLeaks([{ where: 'share text', bytes: Buffer.from(photoRecord.shareText) }], keys).length).toBeGreaterThan(0);
  expect(findLeaks([{ where: 'a utf-16 string', bytes: Buffer.from(`name=${PHOTO_NAME}`, 'utf16le') }], names).length).toBeGreaterThan(0);

  // --- 1. Every request both browsers sent ---
  const requests = [...(await phone.settle()), ...(await laptop.settle())];
  const network = requests.filter((r) => /^https?:/.test(r.url));
  const puts = network.filter((r) => r.method === 'PUT');
  const gets = network.filter((r) => r.method === 'GET' && r.url.startsWith(stack.s3Url));
  const presigns = network.filter((r) => r.method === 'POST' && r.url.endsWith('/api/presign'));
  expect([...new Set(puts.map((r) => new URL(r.url).pathname.replace(/^\/ehr-vault\//, '')))].sort()).toEqual(objects);
  expect(gets.length).toBeGreaterThanOrEqual(DICOM_KEY.length);
  expect(presigns.length).toBeGreaterThan(0);
  expect(presigns.every((r) => r.body !== null && r.body.length > 0)).toBe(true);
  const requestHaystacks: Haystack[] = network.map((r) => {
    let decoded = r.url;
    try {
      decoded = decodeURIComponent(r.url);
    } catch {
      // keep the raw URL
    }
    return { where: `${r.from} ${r.method} ${r.url.slice(0, 90)}`, bytes: Buffer.concat([Buffer.from(r.url), Buffer.from(decoded), Buffer.from(r.headers), r.body ?? Buffer.alloc(0)]) };
  });
  // PUT bodies are Blobs Playwright does not expose: each signed PUT stored exactly its body, so read the objects.
  const putBodies: Haystack[] = [];
  for (const key of objects) putBodies.push({ where: `PUT body ${key}`, bytes: Buffer.from(await stack.bucket.read(key)) });
  const requestLeaks = findLeaks([...requestHaystacks, ...putBodies], [...everything, ...recordIds]);
  expect(requestLeaks).toEqual([]);

  // --- 2. IndexedDB of both browsers ---
  const phoneDb = await dumpIndexedDb(page);
  const laptopDb = await dumpIndexedDb(laptopPage);
  expect(phoneDb.counts).toMatchObject({ records: 2, fragments: PHOTO_KEY.length + DICOM_KEY.length + 4 });
  // The laptop fetched the n data objects only: parity objects are fetched in place of lost ones.
  expect(laptopDb.counts.fragments).toBe(DICOM_KEY.length);
  // The name and key are there, but only sealed (the slots exist and hold ciphertext).
  for (const row of phoneDb.items.filter((i) => i.store === 'records')) {
    expect(JSON.parse(row.json)).toMatchObject({ wrappedKey: { scheme: expect.any(String) }, encryptedMetadata: { scheme: expect.any(String) } });
  }
  const dbLeaks = findLeaks([...dumpHaystacks('phone', phoneDb), ...dumpHaystacks('laptop', laptopDb)], everything);
  expect(dbLeaks).toEqual([]);
  // The only key objects are WebCrypto keys that script cannot export.
  const cryptoKeys = [...phoneDb.items, ...laptopDb.items].flatMap((i) => [...i.json.matchAll(/"\$cryptoKey":"[^"]+","extractable":(true|false)/g)].map((m) => m[1]));
  expect(cryptoKeys.length).toBeGreaterThan(0);
  expect(cryptoKeys.every((extractable) => extractable === 'false')).toBe(true);

  // --- 3. The service worker's caches ---
  const cache = await cachedUrls(page);
  expect(cache.urls.length).toBeGreaterThan(0);
  const s3Host = new URL(stack.s3Url).host;
  expect(cache.urls.filter((u) => new URL(u).pathname.startsWith('/api/') || new URL(u).host === s3Host)).toEqual([]);
  expect(findLeaks(cache.urls.map((u) => ({ where: `cache ${u}`, bytes: Buffer.from(u) })), everything)).toEqual([]);

  const checked = plaintext.length + keys.length + names.length + sequenceKeys.length + sizes.length + recordIds.length;
  console.log(
    `no-leaks: ${network.length} requests (${network.filter((r) => r.serviceWorker).length} from the service worker, ${puts.length} PUT, ${gets.length} GET from the store, ${presigns.length} presign) and ${putBodies.length} stored objects, ` +
      `${phoneDb.items.length + laptopDb.items.length} IndexedDB rows, ${cache.urls.length} cached URLs checked for ${checked} needles: ${requestLeaks.length + dbLeaks.length} leaks`,
  );
  await laptopContext.close();
});
