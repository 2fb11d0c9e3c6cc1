import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';

/**
 * The pixel path keeps every bit: PNG is decoded in JavaScript to its own format (16-bit stays 16-bit,
 * partial alpha stays exact), "Save" re-encodes the stored pixels as PNG without a canvas, and decoder
 * edge cases (EXIF orientation, CMYK, greyscale, progressive, palette, animation, truncation, TIFF) end
 * in a defined result. Fixtures: tests/fixtures/generate-images.py; expected values are recomputed here
 * from the same formulas, not taken from a decoder.
 */

async function openHarness(page: Page) {
  await page.goto('/tests/browser/harness.html');
  await page.waitForSelector('body[data-ready="true"]');
}

const fixture = async (name: string) => (await readFile(new URL(`../fixtures/${name}`, import.meta.url))).toString('base64');

type Mode = 'image' | 'file' | 'auto';

async function roundTrip(page: Page, b64: string, name: string, type: string, mode: Mode = 'auto') {
  return page.evaluate(([b, n, t, m]) => window.harness.clinical.roundTrip(b, n, t, m), [b64, name, type, mode] as const);
}

const le16 = (values: number[]) => values.flatMap((v) => [v & 0xff, v >> 8]);

const W = 37;
const H = 23;
const gray16 = (x: number, y: number) => (x * 1031 + y * 2833 + ((x * y) % 7)) & 0xffff;
const grid = <T>(w: number, h: number, f: (x: number, y: number) => T[]) => Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w))).flat();

test.describe('clinical: pixels kept bit for bit', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('a 16-bit greyscale PNG (written by Pillow) keeps all 16 bits, and its PNG export decodes to the same samples', async ({ page }) => {
    const expected = le16(grid(W, H, (x, y) => [gray16(x, y)]));
    for (const mode of ['auto', 'image'] as const) {
      const r = await roundTrip(page, await fixture('gray16.png'), 'gray16.png', 'image/png', mode);
      expect(r.error, mode).toBeUndefined();
      expect(r.metadata!.image).toEqual({ width: W, height: H, pixelFormat: 'GRAY16' });
      expect(r.metadata!.byteLength).toBeLessThan(W * H * 2 + 64); // filtered-deflate-raw body
      expect(r.pixels).toEqual(expected);
      expect(r.exportedPng).toEqual({ decodesToSamePixels: true, independentDecoderAgrees: true, depth: 16, channels: 1 });
      expect(r.bitmap).toEqual({ width: W, height: H });
    }
  });

  test('RGB16, RGBA16, grey+alpha and RGB 8-bit PNGs map to their formats exactly', async ({ page }) => {
    const rgb16 = grid(W, H, (x, y) => [gray16(x, y), gray16(y, x), (x * 65535) / (W - 1)].map(Math.round));
    const rgba16 = grid(W, H, (x, y) => [gray16(x, y), 65535 - gray16(x, y), x * 1000 + y, (x * 1777 + y * 3) & 0xffff]);
    const ga8 = grid(W, H, (x, y) => [(x * 7) & 255, (x + y * 11) & 255]);
    const rgb8 = grid(W, H, (x, y) => [x * 6, y * 11, (x * y) & 255]);
    const cases = [
      { name: 'rgb16.png', depth: 16 as const, channels: 3, samples: rgb16, format: 'RGB16', pixels: le16(rgb16), exportChannels: 3 },
      { name: 'rgba16.png', depth: 16 as const, channels: 4, samples: rgba16, format: 'RGBA16', pixels: le16(rgba16), exportChannels: 4 },
      { name: 'ga8.png', depth: 8 as const, channels: 2, samples: ga8, format: 'RGBA8', pixels: grid(W, H, (x, y) => { const g = (x * 7) & 255; return [g, g, g, (x + y * 11) & 255]; }), exportChannels: 4 },
      // Opaque: stored as RGB8, no alpha byte (FORMAT.md §13.1).
      { name: 'rgb8.png', depth: 8 as const, channels: 3, samples: rgb8, format: 'RGB8', pixels: rgb8, exportChannels: 3 },
    ];
    for (const c of cases) {
      const b64 = await page.evaluate(([d, ch, s]) => window.harness.clinical.pngBase64(37, 23, d, ch, s), [c.depth, c.channels, c.samples] as const);
      const r = await roundTrip(page, b64, c.name, 'image/png');
      expect(r.metadata!.image, c.name).toEqual({ width: W, height: H, pixelFormat: c.format });
      expect(r.pixels, c.name).toEqual(c.pixels);
      expect(r.exportedPng, c.name).toEqual({ decodesToSamePixels: true, independentDecoderAgrees: true, depth: c.depth, channels: c.exportChannels });
    }
  });

  test('an RGBA PNG with partial transparency: protected pixels equal the file\'s samples, and the export equals them too', async ({ page }) => {
    // Alpha 0…255 with colours a canvas could not keep: premultiplied storage rounds them away.
    const rgba = grid(W, H, (x, y) => [200 - x, (x * 13 + y) & 255, 50 + y, (x * 7 + y * 3) & 255]);
    const b64 = await page.evaluate(([s]) => window.harness.clinical.pngBase64(37, 23, 8, 4, s), [rgba] as const);
    const r = await roundTrip(page, b64, 'alpha.png', 'image/png', 'image');
    expect(r.metadata!.image).toEqual({ width: W, height: H, pixelFormat: 'RGBA8' });
    expect(r.pixels).toEqual(rgba);
    expect(r.exportedPng).toEqual({ decodesToSamePixels: true, independentDecoderAgrees: true, depth: 8, channels: 4 });

    // A PNG written by the browser's own canvas encoder: the protected pixels are its samples exactly.
    const canvasPng = await page.evaluate(async () => {
      const blob = await window.harness.imageBlob(61, 17, 'image/png', true);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (const b of bytes) s += String.fromCharCode(b);
      return btoa(s);
    });
    const c = await roundTrip(page, canvasPng, 'canvas.png', 'image/png');
    expect(c.exportedPng).toEqual({ decodesToSamePixels: true, independentDecoderAgrees: true, depth: 8, channels: 4 });
  });

  test('a palette PNG (4-bit, with a transparency table) expands to RGBA8', async ({ page }) => {
    const r = await roundTrip(page, await fixture('palette-trns.png'), 'palette-trns.png', 'image/png');
    expect(r.metadata!.image).toEqual({ width: W, height: H, pixelFormat: 'RGBA8' });
    expect(r.pixels).toEqual(grid(W, H, (x, y) => { const i = (x + 2 * y) % 16; return [i * 16, 255 - i * 16, (i * 37) & 255, (i * 17) & 255]; }));
  });

  test('PNG export of a multi-frame GRAY16 record gives the asked frame', async ({ page }) => {
    const frames = [grid(5, 3, (x, y) => [gray16(x, y)]), grid(5, 3, (x, y) => [65535 - x - y * 5])];
    const pixels = le16(frames.flat());
    const r = await page.evaluate(([p]) => window.harness.clinical.exportPng(p, { width: 5, height: 3, pixelFormat: 'GRAY16', frames: 2 }, 1), [pixels] as const);
    expect(r).toEqual({ type: 'image/png', pixelFormat: 'GRAY16', width: 5, height: 3, pixels: le16(frames[1]!) });
  });

  test('a GRAY16 record in the viewer: full-range default, windowed render by the PS3.3 formula', async ({ page }) => {
    const samples = grid(4, 2, (x, y) => [x * 1000 + y * 100]);
    const r = await page.evaluate(([s]) => window.harness.clinical.pixelViewer(s, { width: 4, height: 2, pixelFormat: 'GRAY16' }, { center: 1500, width: 2001 }), [samples] as const);
    expect(r.summary).toMatchObject({ source: 'pixels', frames: 1, grayscale: true, valueRange: { min: 0, max: 3100 } });
    expect(r.summary.defaultWindow).toEqual({ name: 'Full range', center: 1550.5, width: 3101 });
    const level = (v: number) => (v <= 1500 - 0.5 - 1000 ? 0 : v > 1500 - 0.5 + 1000 ? 255 : Math.round(((v - 1499.5) / 2000 + 0.5) * 255));
    expect(r.rgba).toEqual(samples.flatMap((v) => [level(v), level(v), level(v), 255]));
  });
});

test.describe('clinical: decoder edge cases', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('EXIF orientation 6: pixels are the image as displayed (rotated), not as stored', async ({ page }) => {
    const r = await roundTrip(page, await fixture('exif-orientation-6.jpg'), 'exif.jpg', 'image/jpeg');
    expect(r.metadata!.image).toEqual({ width: 20, height: 40, pixelFormat: 'RGB8' });
    const px = (x: number, y: number) => r.pixels!.slice((y * 20 + x) * 3, (y * 20 + x) * 3 + 3);
    // Stored top-left red block → displayed top-right; the rest is blue.
    const [red, blue] = [px(17, 2), px(2, 2)];
    expect(red[0]).toBeGreaterThan(200);
    expect(red[2]).toBeLessThan(60);
    expect(blue[2]).toBeGreaterThan(200);
    expect(blue[0]).toBeLessThan(60);
  });

  test('a greyscale JPEG is stored as GRAY8 with the same values as libjpeg-turbo in Pillow', async ({ page }) => {
    const r = await roundTrip(page, await fixture('gray.jpg'), 'gray.jpg', 'image/jpeg');
    expect(r.metadata!.image).toEqual({ width: 64, height: 48, pixelFormat: 'GRAY8' });
    const at = (x: number, y: number) => r.pixels![y * 64 + x];
    // Pillow 9.4: (0,0)=0, (20,10)=50, (63,47)=235, (32,24)=120.
    expect([at(0, 0), at(20, 10), at(63, 47), at(32, 24)]).toEqual([0, 50, 235, 120]);
    expect(r.exportedPng).toMatchObject({ decodesToSamePixels: true, depth: 8, channels: 1 });
  });

  test('a progressive JPEG decodes like a baseline one (values as Pillow)', async ({ page }) => {
    const r = await roundTrip(page, await fixture('progressive.jpg'), 'progressive.jpg', 'image/jpeg');
    expect(r.metadata!.image).toEqual({ width: 64, height: 48, pixelFormat: 'RGB8' });
    const at = (x: number, y: number) => r.pixels!.slice((y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
    expect([at(0, 0), at(20, 10), at(63, 47), at(32, 24)]).toEqual([
      [1, 1, 125],
      [81, 49, 160],
      [251, 235, 175],
      [127, 121, 181],
    ]);
  });

  test('a CMYK JPEG becomes the browser\'s RGB rendering: cyan left, yellow right', async ({ page }) => {
    const r = await roundTrip(page, await fixture('cmyk.jpg'), 'cmyk.jpg', 'image/jpeg');
    expect(r.metadata!.image).toEqual({ width: 32, height: 32, pixelFormat: 'RGB8' });
    const at = (x: number, y: number) => r.pixels!.slice((y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
    const [cyan, yellow] = [at(5, 5), at(25, 5)];
    expect(cyan[0]).toBeLessThan(60);
    expect(Math.min(cyan[1]!, cyan[2]!)).toBeGreaterThan(150);
    expect(yellow[2]).toBeLessThan(60);
    expect(Math.min(yellow[0]!, yellow[1]!)).toBeGreaterThan(150);
  });

  test('animated GIF, WebP and PNG keep their original bytes (every frame); image mode refuses them', async ({ page }) => {
    for (const [file, type] of [
      ['animated.gif', 'image/gif'],
      ['animated.webp', 'image/webp'],
      ['animated.png', 'image/png'],
    ] as const) {
      const b64 = await fixture(file);
      const r = await roundTrip(page, b64, file, type);
      expect(r.stored, file).toEqual({ as: 'original-bytes', type: type.slice(6), reason: 'animated' });
      expect(r.bytesEqual, file).toBe(true);
      expect(r.metadata, file).toMatchObject({ kind: 'file', mime: type });
      const refused = await roundTrip(page, b64, file, type, 'image');
      expect(refused.error, file).toEqual({ code: 'INPUT_INVALID', reason: 'animated' });
    }
  });

  test('a truncated JPEG keeps its original bytes instead of pixels a decoder made up; image mode refuses it', async ({ page }) => {
    const b64 = await fixture('truncated.jpg');
    const r = await roundTrip(page, b64, 'truncated.jpg', 'image/jpeg');
    expect(r.stored).toEqual({ as: 'original-bytes', type: 'jpeg', reason: 'truncated' });
    expect(r.bytesEqual).toBe(true);
    expect((await roundTrip(page, b64, 'truncated.jpg', 'image/jpeg', 'image')).error).toEqual({ code: 'INPUT_INVALID', reason: 'truncated' });
    // The complete progressive file is not mistaken for a truncated one.
    expect((await roundTrip(page, await fixture('progressive.jpg'), 'p.jpg', 'image/jpeg')).stored).toEqual({ as: 'pixels', type: 'jpeg' });
  });

  test('TIFF (not decodable by browsers) is protected as its bytes, recognised by content even with a wrong name and type', async ({ page }) => {
    const b64 = await fixture('scan.tiff');
    const r = await roundTrip(page, b64, 'scan.bin', '');
    expect(r.stored).toEqual({ as: 'original-bytes', type: 'tiff', reason: 'not-decodable-here' });
    expect(r.metadata).toMatchObject({ kind: 'file', mime: 'image/tiff' });
    expect(r.bytesEqual).toBe(true);
    expect((await roundTrip(page, b64, 'scan.tiff', 'image/tiff', 'image')).error).toEqual({ code: 'INPUT_INVALID', reason: 'not-decodable-here' });
  });

  test('file mode keeps the caller\'s MIME type and says it was asked for', async ({ page }) => {
    const r = await roundTrip(page, await fixture('gray16.png'), 'gray16.png', 'image/png', 'file');
    expect(r.stored).toEqual({ as: 'original-bytes', type: 'unknown', reason: 'requested' });
    expect(r.metadata).toMatchObject({ kind: 'file', mime: 'image/png' });
    expect(r.bytesEqual).toBe(true);
  });
});
