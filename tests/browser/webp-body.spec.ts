import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { expect, test, type Page } from '@playwright/test';
import { startAppStack, type AppStack } from './app-stack.js';
import { newAppContext, skipIntro } from './app-helpers.js';
import { protectInApp } from './app-flows.js';
import { sealedBytes } from '../../src/services/upload-estimate.js';
import { deflateFilteredRows } from '../../src/workers/deflate.js';
import { encodeWebpBody } from '../../src/workers/webp-body.js';
import { WEBP_SETTINGS } from '../../src/workers/pixel-body.js';

/**
 * The `webp-lossless` pixel body (FORMAT.md §6.4) in the browser: libwebp's WASM loads in the engine
 * Worker (under the app's CSP), screenshot-like PNGs get the WebP body because it is smaller, and the
 * pixels come back bit for bit — RGBA with fully transparent pixels of non-zero colour included — through
 * the engine Workers and through the app itself (protect, upload, open on another device, viewer canvas).
 */

const KEY = 'adk21937';
const W = 160;
const H = 96;

/** Few colours in blocks and "glyphs", grid lines, one noisy band: what screenshots and charts look like. */
function screenshot(channels: 1 | 3 | 4): number[] {
  const palette = [
    [250, 250, 250],
    [30, 30, 30],
    [0, 102, 204],
    [220, 50, 47],
    [133, 153, 0],
    [200, 200, 200],
  ];
  const out: number[] = [];
  let seed = 99;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const cell = (Math.imul((x / 3) | 0, 73856093) ^ Math.imul((y / 3) | 0, 19349663)) >>> 0;
      const colour = palette[x % 24 === 0 || y % 18 === 0 ? 5 : cell % 7 < 2 ? 1 + ((y >> 4) % 4) : 0]!;
      const band = y > H / 2 && y < H / 2 + 3;
      const rgb = band ? [seed >>> 24, (seed >>> 16) & 255, (seed >>> 8) & 255] : colour;
      if (channels === 1) out.push(rgb[0]!);
      else out.push(...rgb);
      // Transparent left quarter with its colour kept, half-transparent second quarter.
      if (channels === 4) out.push(x < W / 4 ? 0 : x < W / 2 ? 128 : 255);
    }
  }
  return out;
}

const pngBase64 = (channels: 1 | 3 | 4, samples: number[]) => Buffer.from(encodePng({ width: W, height: H, depth: 8, channels, data: Uint8Array.from(samples) })).toString('base64');

test.describe('webp-lossless pixel bodies', () => {
  test('GRAY8, RGB8 and RGBA8 PNGs through the engine Workers: WebP body, pixels and PNG export bit for bit', async ({ page }) => {
    await page.goto('/tests/browser/harness.html');
    await page.waitForSelector('body[data-ready="true"]');
    for (const [channels, format] of [[1, 'GRAY8'], [3, 'RGB8'], [4, 'RGBA8']] as const) {
      const samples = screenshot(channels);
      const r = await page.evaluate(([b64, name]) => window.harness.clinical.roundTrip(b64, name, 'image/png', 'auto'), [pngBase64(channels, samples), `${format}.png`] as const);
      expect(r.error, format).toBeUndefined();
      expect(r.metadata!.image, format).toEqual({ width: W, height: H, pixelFormat: format });
      expect(r.metadata!.bodyEncoding, format).toBe('webp-lossless');
      // The body is far below the raw pixels (a screenshot): the point of the encoding.
      expect(r.metadata!.byteLength, format).toBeLessThan((W * H * channels) / 4);
      expect(r.pixels, format).toEqual(samples);
      expect(r.exportedPng, format).toEqual({ decodesToSamePixels: true, independentDecoderAgrees: true, depth: 8, channels });
    }
  });

  test.describe('through the app', () => {
    let stack: AppStack;
    let dir: string;
    test.describe.configure({ mode: 'serial' });
    test.beforeAll(async () => {
      stack = await startAppStack();
      dir = await mkdtemp(join(tmpdir(), 'ehrv-webp-'));
    });
    test.afterAll(async () => {
      await stack?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    test.beforeEach(async ({ context }) => {
      await skipIntro(context);
    });

    async function viewerRgba(page: Page): Promise<{ width: number; height: number; data: number[] }> {
      return page.locator('ev-image-viewer canvas').evaluate((canvas: HTMLCanvasElement) => ({
        width: canvas.width,
        height: canvas.height,
        data: Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data),
      }));
    }

    test('a screenshot PNG is protected, uploaded and opened on another device with the same pixels', async ({ page, browser }) => {
      const samples = screenshot(3);
      const file = join(dir, 'screenshot.png');
      await writeFile(file, Buffer.from(pngBase64(3, samples), 'base64'));
      const { shareText } = await protectInApp(page, stack.appUrl, file, KEY);
      // The production build (its CSP, its emitted .wasm) really wrote the WebP body: what was uploaded is
      // the size the WebP body seals to, well under what the row-filter body would have made.
      const info = { width: W, height: H, pixelFormat: 'RGB8' as const };
      const webp = (await encodeWebpBody(Uint8Array.from(samples), info, WEBP_SETTINGS)).length;
      const deflate = (await deflateFilteredRows(Uint8Array.from(samples), info)).length;
      expect(webp).toBeLessThan(deflate * 0.8);
      const keys = (await stack.listObjects()).filter((k) => k.includes('/fragments/'));
      expect(keys).toHaveLength(10);
      let uploaded = 0;
      for (const k of keys) uploaded += (await stack.readObject(k)).length;
      expect(uploaded).toBeLessThanOrEqual(sealedBytes(webp, 'screenshot.png', 8, 2) + 10 * 256);
      expect(uploaded).toBeLessThan(sealedBytes(deflate, 'screenshot.png', 8, 2));
      const fresh = await newAppContext(browser, { viewport: page.viewportSize()! });
      const other = await fresh.newPage();
      await other.goto(`${stack.appUrl}/#/open`);
      await other.locator('#share').fill(shareText);
      await other.locator('#seq').fill(KEY);
      await other.getByRole('button', { name: 'Open', exact: true }).click();
      await expect(other.locator('ev-image-viewer')).toBeVisible({ timeout: 60_000 });
      const shown = await viewerRgba(other);
      expect([shown.width, shown.height]).toEqual([W, H]);
      // An opaque image: the canvas holds exactly the RGB samples with alpha 255.
      const expected = samples.flatMap((v, i) => (i % 3 === 2 ? [v, 255] : [v]));
      expect(shown.data.length).toBe(expected.length);
      expect(shown.data.every((v, i) => v === expected[i])).toBe(true);
      await fresh.close();
    });
  });
});
