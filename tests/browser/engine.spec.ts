import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from './test.js';
import { chromiumLaunch } from '../../playwright.config.js';

async function openHarness(page: Page) {
  await page.goto('/tests/browser/harness.html');
  await page.waitForSelector('body[data-ready="true"]');
}

async function blobFromFixture(page: Page, file: string, type: string) {
  const bytes = await readFile(new URL(`../fixtures/${file}`, import.meta.url));
  await page.evaluate(
    ([b64, t]) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      (window as unknown as { fixture: Blob }).fixture = new Blob([raw], { type: t });
    },
    [bytes.toString('base64'), type] as const,
  );
  return bytes.length;
}

test.describe('engine: protect and open in workers', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('a PNG with partial alpha round-trips pixel for pixel, with a cipher-noise preview of the same size', async ({ page }) => {
    const r = await page.evaluate(async () => window.harness.roundTripImage(await window.harness.imageBlob(97, 61, 'image/png', true), false));
    expect(r.pixelsEqual).toBe(true);
    expect(r.pixelBytes).toBe(97 * 61 * 4);
    expect(r.metadata.image).toEqual({ width: 97, height: 61, pixelFormat: 'RGBA8' });
    expect(r.noise).toEqual({ width: 97, height: 61 });
    expect(r.fragmentCount).toBe(8);
    // FORMAT.md §4.4: two parity objects by default.
    expect(r.parityCount).toBe(2);
    // Every object of a record has the same length (FORMAT.md §4.3): its index character's byte length is hidden.
    expect(r.objectSizes).toBe(1);
  });

  test('parity: a file opens bit-equal with two objects removed, or one removed and one damaged; three removed is FRAGMENT_MISSING', async ({ page }) => {
    const r = await page.evaluate(async () => {
      const bytes = new Uint8Array(3 * 1024 * 1024 + 77);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 9)) & 0xff;
      const blob = new Blob([bytes], { type: 'application/octet-stream' });
      return {
        twoGone: await window.harness.parityRoundTrip(blob, 'file', [1, 6]),
        oneGoneOneDamaged: await window.harness.parityRoundTrip(blob, 'file', [9], 3),
        parityGoneOneDamaged: await window.harness.parityRoundTrip(blob, 'file', [8], 0),
        threeGone: await window.harness.parityRoundTrip(blob, 'file', [0, 2, 4]),
      };
    });
    expect(r.twoGone).toMatchObject({ objectCount: 10, ok: true, bytesEqual: true });
    expect(r.oneGoneOneDamaged).toMatchObject({ ok: true, bytesEqual: true });
    expect(r.parityGoneOneDamaged).toMatchObject({ ok: true, bytesEqual: true });
    expect(r.threeGone).toMatchObject({ ok: false, code: 'FRAGMENT_MISSING', missing: ['a', 'k', '1'] });
  });

  test('parity: an image record opens with two data objects removed', async ({ page }) => {
    const r = await page.evaluate(async () => window.harness.parityRoundTrip(await window.harness.imageBlob(64, 48, 'image/png', false), 'image', [0, 7]));
    // Opaque, so stored as RGB8 (FORMAT.md §13.1).
    expect(r).toMatchObject({ objectCount: 10, ok: true, pixelBytes: 64 * 48 * 3 });
  });

  test('a real JPEG photo round-trips pixel for pixel, compressed and not', async ({ page }) => {
    await blobFromFixture(page, 'photo-board.jpg', 'image/jpeg');
    for (const compress of [false, true]) {
      const r = await page.evaluate(async (c) => window.harness.roundTripImage((window as unknown as { fixture: Blob }).fixture, c), compress);
      expect(r.pixelsEqual).toBe(true);
      // An opaque photo is stored as RGB8: no alpha byte (FORMAT.md §13.1).
      expect(r.pixelBytes).toBe(r.width * r.height * 3);
      expect(r.metadata.image?.pixelFormat).toBe('RGB8');
      // Lossless WebP (-z 1) beats row filters + DEFLATE on this photo's pixels by ~18% (bench/README.md).
      expect(r.metadata.bodyEncoding).toBe(compress ? 'webp-lossless' : undefined);
      expect(r.width).toBeGreaterThan(100);
    }
  });

  test('odd width (not a multiple of 4), 1×1, WebP, GIF and BMP images round-trip', async ({ page }) => {
    const results = await page.evaluate(async () => {
      const h = window.harness;
      const out: Record<string, { equal: boolean; w: number; h: number }> = {};
      const cases: [string, Blob][] = [
        ['odd', await h.imageBlob(333, 7, 'image/png', false)],
        ['one', await h.imageBlob(1, 1, 'image/png', true)],
        ['webp', await h.imageBlob(41, 23, 'image/webp', true)],
      ];
      // GIF and BMP: the browser cannot encode them, so the smallest valid files are built by hand.
      const gif = Uint8Array.from(atob('R0lGODlhAgACAPAAAP8AAAAA/yH5BAAAAAAALAAAAAACAAIAAAIChF8AOw=='), (c) => c.charCodeAt(0));
      cases.push(['gif', new Blob([gif], { type: 'image/gif' })]);
      const bmp = new Uint8Array(58 + 4 * 2);
      const v = new DataView(bmp.buffer);
      bmp.set([0x42, 0x4d]);
      v.setUint32(2, bmp.length, true);
      v.setUint32(10, 54, true);
      v.setUint32(14, 40, true);
      v.setInt32(18, 3, true);
      v.setInt32(22, 1, true);
      v.setUint16(26, 1, true);
      v.setUint16(28, 24, true);
      bmp.set([0, 0, 255, 0, 255, 0, 255, 0, 0, 0, 0, 0], 54);
      cases.push(['bmp', new Blob([bmp], { type: 'image/bmp' })]);
      for (const [name, blob] of cases) {
        const r = await h.roundTripImage(blob, name === 'odd');
        out[name] = { equal: r.pixelsEqual, w: r.width, h: r.height };
      }
      return out;
    });
    expect(results).toEqual({
      odd: { equal: true, w: 333, h: 7 },
      one: { equal: true, w: 1, h: 1 },
      webp: { equal: true, w: 41, h: 23 },
      gif: { equal: true, w: 2, h: 2 },
      bmp: { equal: true, w: 3, h: 1 },
    });
  });

  test('a large image (4000×3000) round-trips pixel for pixel', async ({ page }) => {
    const r = await page.evaluate(async () => window.harness.roundTripImage(await window.harness.imageBlob(4000, 3000, 'image/png', false), true));
    expect(r.pixelsEqual).toBe(true);
    expect(r.pixelBytes).toBe(4000 * 3000 * 3);
  });

  test('a real DICOM file round-trips byte for byte as a file, and its name is not in the fragments', async ({ page }) => {
    const size = await blobFromFixture(page, 'CT_small.dcm', 'application/dicom');
    const r = await page.evaluate(async () => window.harness.roundTripFile((window as unknown as { fixture: Blob }).fixture, 'CT_small.dcm'));
    expect(r.bytesEqual).toBe(true);
    expect(r.size).toBe(size);
    expect(r.metadata).toMatchObject({ kind: 'file', name: 'CT_small.dcm', mime: 'application/dicom', bodyEncoding: 'deflate-raw', contentLength: size });
    // An uncompressed DICOM file is deflated before encryption (FORMAT.md §6.3).
    expect(r.metadata.byteLength).toBeLessThan(size);
    expect(r.nameInFragments).toBe(false);
  });

  test('a 40 MiB file streams through several read slices and chunks and comes back byte for byte', async ({ page }) => {
    const r = await page.evaluate(async () => {
      const size = 40 * 1024 * 1024 + 12345;
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
      return window.harness.roundTripFile(new Blob([bytes]), 'big.bin');
    });
    expect(r.bytesEqual).toBe(true);
    expect(r.size).toBe(40 * 1024 * 1024 + 12345);
  });

  test('cancel mid-way rejects with ABORTED and leaves no worker running', async ({ page }) => {
    const r = await page.evaluate(async () => window.harness.cancelMidway(256 * 1024 * 1024));
    expect(r.code).toBe('ABORTED');
    expect(r.progressSeen).toBeGreaterThan(0);
    expect(r.running).toBe(0);
  });

  test('an engine worker that stops answering, or never loads, ends the call with ENGINE_STALLED and leaves no worker', async ({ page }) => {
    const outcomes = await page.evaluate(async () => window.harness.stalledCalls());
    expect(outcomes).toEqual([
      { code: 'ENGINE_STALLED', running: 0 },
      { code: 'ENGINE_STALLED', running: 0 },
    ]);
  });

  test('typed errors cross the worker boundary: tampered, missing, wrong key, wrong sequence key', async ({ page }) => {
    const r = await page.evaluate(async () => window.harness.tamper(new Blob([new Uint8Array(300_000).fill(7)])));
    expect(r).toEqual({ tampered: 'FRAGMENT_TAMPERED', missing: 'FRAGMENT_MISSING', wrongKey: 'WRONG_RECORD_KEY', wrongSequence: 'WRONG_SEQUENCE_KEY', running: 0 });
  });

  test('Workers take the paths this engine supports: BYOB reads and shared scratch writers in Chromium, their fallbacks with Safari 16.4\'s gaps', async ({ page, engineGaps }) => {
    const modes = await page.evaluate(() => window.harness.engineModes());
    // A Worker started by a Worker (as the pool is by the engine worker) takes the same paths.
    expect(await page.evaluate(() => window.harness.engineModes(true))).toEqual(modes);
    const page_ = await page.evaluate(() => ({ byob: typeof (globalThis as { ReadableStreamBYOBReader?: unknown }).ReadableStreamBYOBReader, barcode: 'BarcodeDetector' in globalThis }));
    if (engineGaps === 'safari-16.4') {
      expect(modes).toEqual({ read: 'copy', readOk: true, sink: 'disk-relay', scratchAfter: 0 });
      expect(page_).toEqual({ byob: 'undefined', barcode: false });
    } else {
      expect(modes).toEqual({ read: 'byob', readOk: true, sink: 'disk-shared', scratchAfter: 0 });
      expect(page_.byob).toBe('function');
    }
  });

  test('a file of several segments round-trips through the worker pool, its output in memory or in a scratch file', async ({ page }) => {
    const size = 50 * 1024 * 1024 + 777;
    const memory = await page.evaluate((n) => window.harness.poolRoundTrip(n, 'memory'), size);
    expect(memory).toEqual({ bytesEqual: true, size, protectScratch: false, openScratch: false, scratchDuring: 0, scratchAfter: 0, running: 0 });
    const disk = await page.evaluate((n) => window.harness.poolRoundTrip(n, 'disk'), size);
    expect(disk).toEqual({ bytesEqual: true, size, protectScratch: true, openScratch: true, scratchDuring: 2, scratchAfter: 0, running: 0 });
  });

  test('damage in any segment is FRAGMENT_TAMPERED naming its fragment; with two, the first in the chain; no scratch file is left', async ({ page }) => {
    const size = 40 * 1024 * 1024;
    const one = await page.evaluate((n) => window.harness.poolTamper(n, [5]), size);
    expect(one.code).toBe('FRAGMENT_TAMPERED');
    expect(one.indexChars).toEqual([one.chain![5]]);
    expect(one.scratchAfter).toBe(0);
    const two = await page.evaluate((n) => window.harness.poolTamper(n, [6, 2]), size);
    expect(two.code).toBe('FRAGMENT_TAMPERED');
    expect(two.indexChars).toEqual([two.chain![2]]);
    expect(two.scratchAfter).toBe(0);
  });

  test('cancel while writing to disk rejects with ABORTED, leaves no worker and removes the scratch file', async ({ page }) => {
    const r = await page.evaluate(() => window.harness.cancelToDisk(96 * 1024 * 1024));
    expect(r.code).toBe('ABORTED');
    expect(r.running).toBe(0);
    expect(r.scratchAfter).toBe(0);
    // Cancelled mid-way: some of the 96 MiB was done, not all of it.
    expect(r.progressSeen).toBeGreaterThan(0);
    expect(r.progressSeen).toBeLessThan(96 * 1024 * 1024);
  });

  test('scratch files of tabs that are gone are swept; this tab’s are kept', async ({ page }) => {
    const r = await page.evaluate(() => window.harness.sweep());
    expect(r.removed).toBe(1);
    expect(r.left).toHaveLength(1);
  });

  test('IndexedDB keeps its own copy of a stored Blob in a profile on disk, only a reference in a private window: the probe tells them apart', async ({ page, baseURL }) => {
    // A private (incognito-like) context: the default for these tests.
    expect(await page.evaluate(() => window.harness.indexedDbCopiesBlobs())).toBe(false);
    expect(await page.evaluate(() => window.harness.listScratch())).toEqual([]);
    const profile = await mkdtemp(join(tmpdir(), 'ehrv-profile-'));
    const context = await chromium.launchPersistentContext(profile, { ...chromiumLaunch, headless: true });
    try {
      const persistent = context.pages()[0] ?? (await context.newPage());
      await persistent.goto(`${baseURL}/tests/browser/harness.html`);
      await persistent.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      expect(await persistent.evaluate(() => window.harness.indexedDbCopiesBlobs())).toBe(true);
      expect(await persistent.evaluate(() => window.harness.listScratch())).toEqual([]);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
