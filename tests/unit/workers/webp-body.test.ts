/**
 * The `webp-lossless` pixel body (FORMAT.md §6.4) with the engine's libwebp WASM, in Node: GRAY8, RGB8
 * and RGBA8 (transparent pixels with non-zero RGB) round-trip bit for bit; a body that breaks §6.4 or
 * does not fit the record's description is METADATA_INVALID; the engine keeps the smaller of the two
 * lossless bodies, and a PNG protected through the real pipeline opens to the same pixels.
 */
import fc from 'fast-check';
import { encode as encodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { EhrVaultError, generateRecordId, generateRecordKey, type ImageInfo } from '../../../src/core/index.js';
import { decodeWebpBody, encodeWebpBody } from '../../../src/workers/webp-body.js';
import { encodePixelBody, WEBP_SETTINGS } from '../../../src/workers/pixel-body.js';
import { deflateFilteredRows } from '../../../src/workers/deflate.js';
import { protectInWorker } from '../../../src/workers/protect-engine.js';
import { openInWorker } from '../../../src/workers/open-engine.js';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

async function code(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    return error instanceof EhrVaultError ? error.code : `untyped: ${String(error)}`;
  }
  return 'no error';
}

/**
 * A screenshot-like image: a few colours in blocks and "glyphs" (hashed 3×3 cells), grid lines, and one
 * noisy band of 3 rows (so it is not trivial). RGBA: a transparent left quarter whose RGB is not zero
 * ("exact" must keep it) and a half-transparent second quarter.
 */
function screenshot(width: number, height: number, channels: 1 | 3 | 4): Uint8Array {
  const palette = [
    [250, 250, 250],
    [30, 30, 30],
    [0, 102, 204],
    [220, 50, 47],
    [133, 153, 0],
    [200, 200, 200],
  ] as const;
  const out = new Uint8Array(width * height * channels);
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const cell = (Math.imul((x / 3) | 0, 73856093) ^ Math.imul((y / 3) | 0, 19349663)) >>> 0;
      const colour = palette[x % 24 === 0 || y % 18 === 0 ? 5 : cell % 7 < 2 ? 1 + ((y >> 4) % 4) : 0]!;
      const band = y > height / 2 && y < height / 2 + 3;
      const i = (y * width + x) * channels;
      if (channels === 1) out[i] = band ? seed >>> 24 : colour[0];
      else for (let c = 0; c < 3; c++) out[i + c] = band ? (seed >>> (8 * c)) & 0xff : colour[c]!;
      if (channels === 4) out[i + 3] = x < width / 4 ? 0 : x < width / 2 ? 128 : 255;
    }
  }
  return out;
}

const CASES: [ImageInfo, 1 | 3 | 4][] = [
  [{ width: 37, height: 23, pixelFormat: 'GRAY8' }, 1],
  [{ width: 64, height: 40, pixelFormat: 'RGB8' }, 3],
  [{ width: 51, height: 33, pixelFormat: 'RGBA8' }, 4],
];

describe('webp-lossless body (FORMAT.md §6.4)', () => {
  for (const [info, channels] of CASES) {
    it(`${info.pixelFormat} round-trips bit for bit through the RIFF/VP8L body`, async () => {
      const pixels = screenshot(info.width, info.height, channels);
      const body = await encodeWebpBody(pixels, info, WEBP_SETTINGS);
      expect(Buffer.from(body.subarray(0, 4)).toString('latin1')).toBe('RIFF');
      expect(Buffer.from(body.subarray(12, 16)).toString('latin1')).toBe('VP8L');
      expect(same(await decodeWebpBody(body, info), pixels)).toBe(true);
    });
  }

  it('RGBA8: fully transparent pixels keep their non-zero RGB (exact)', async () => {
    const info: ImageInfo = { width: 8, height: 4, pixelFormat: 'RGBA8' };
    const pixels = Uint8Array.from({ length: 8 * 4 * 4 }, (_, i) => (i % 4 === 3 ? 0 : (i * 37 + 11) & 0xff));
    const decoded = await decodeWebpBody(await encodeWebpBody(pixels, info, WEBP_SETTINGS), info);
    expect(Array.from(decoded)).toEqual(Array.from(pixels));
  });

  it('a body that does not fit the description, or breaks the container, is METADATA_INVALID — never other pixels', async () => {
    const rgb: ImageInfo = { width: 16, height: 8, pixelFormat: 'RGB8' };
    const rgbPixels = screenshot(16, 8, 3);
    const body = await encodeWebpBody(rgbPixels, rgb, WEBP_SETTINGS);
    // Colour pixels declared GRAY8; transparent ones declared RGB8; another size.
    expect(await code(() => decodeWebpBody(body, { ...rgb, pixelFormat: 'GRAY8' }))).toBe('METADATA_INVALID');
    const rgba: ImageInfo = { width: 16, height: 8, pixelFormat: 'RGBA8' };
    const rgbaBody = await encodeWebpBody(screenshot(16, 8, 4), rgba, WEBP_SETTINGS);
    expect(await code(() => decodeWebpBody(rgbaBody, rgb))).toBe('METADATA_INVALID');
    expect(await code(() => decodeWebpBody(body, { ...rgb, width: 15 }))).toBe('METADATA_INVALID');
    // 16-bit or several frames cannot use WebP at all.
    expect(await code(() => decodeWebpBody(body, { ...rgb, pixelFormat: 'RGB16' }))).toBe('METADATA_INVALID');
    expect(await code(() => decodeWebpBody(body, { ...rgb, frames: 2 }))).toBe('METADATA_INVALID');
    // Cut short (RIFF size no longer matches), a trailing byte, a wrong chunk, a bad signature.
    expect(await code(() => decodeWebpBody(body.subarray(0, body.length - 3), rgb))).toBe('METADATA_INVALID');
    expect(await code(() => decodeWebpBody(new Uint8Array([...body, 0]), rgb))).toBe('METADATA_INVALID');
    const lossy = body.slice();
    lossy.set([0x56, 0x50, 0x38, 0x20], 12); // "VP8 "
    expect(await code(() => decodeWebpBody(lossy, rgb))).toBe('METADATA_INVALID');
    const signature = body.slice();
    signature[20] = 0x2e;
    expect(await code(() => decodeWebpBody(signature, rgb))).toBe('METADATA_INVALID');
    // Sizes kept consistent, bitstream cut: libwebp fails, the reader reports METADATA_INVALID.
    const cut = body.slice(0, 30);
    new DataView(cut.buffer).setUint32(4, cut.length - 8, true);
    new DataView(cut.buffer).setUint32(16, cut.length - 20, true);
    expect(await code(() => decodeWebpBody(cut, rgb))).toBe('METADATA_INVALID');
    // Header says another size than the description.
    const resized = body.slice();
    resized[21] = (resized[21]! + 1) & 0xff;
    expect(await code(() => decodeWebpBody(resized, rgb))).toBe('METADATA_INVALID');
  });

  it('any byte changed in a body, or random bytes: pixels of the declared size or METADATA_INVALID, never another error', async () => {
    const info: ImageInfo = { width: 24, height: 16, pixelFormat: 'RGBA8' };
    const body = await encodeWebpBody(screenshot(24, 16, 4), info, WEBP_SETTINGS);
    const outcome = async (bytes: Uint8Array) => {
      try {
        const pixels = await decodeWebpBody(bytes, info);
        return pixels.length === 24 * 16 * 4 ? 'pixels' : 'wrong length';
      } catch (error) {
        return error instanceof EhrVaultError ? error.code : `untyped: ${String(error)}`;
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: body.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const damaged = body.slice();
        damaged[at]! ^= xor;
        // VP8L has no checksum: a changed entropy-coded byte may still decode (to other pixels). In a
        // record that cannot happen unnoticed: AES-GCM rejects the chunk first (next test).
        expect(['pixels', 'METADATA_INVALID']).toContain(await outcome(damaged));
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 200 }), async (bytes) => {
        expect(await outcome(bytes)).toBe('METADATA_INVALID');
      }),
      { numRuns: 100 },
    );
  });

  it('a changed byte in a sealed object of a WebP record is FRAGMENT_TAMPERED (p = 0), never other pixels', async () => {
    const rgba = screenshot(64, 40, 4);
    const png = encodePng({ width: 64, height: 40, data: rgba, channels: 4, depth: 8 });
    const recordKey = generateRecordKey();
    const recordId = generateRecordId();
    const result = await protectInWorker({ source: new Blob([png as BlobPart]), name: 'shot.png', mime: 'image/png', mode: 'auto', sequenceKey: 'adk21937', recordKey: recordKey.slice(), recordId, kdf: { memoryKiB: 64, passes: 1, parallelism: 1 }, parity: 0 });
    expect(result.metadata.bodyEncoding).toBe('webp-lossless');
    const blobs = await Promise.all(result.objects.map(async (o) => new Uint8Array(await o.blob.arrayBuffer())));
    // Inside the last data object's payload, where the WebP body's tail is.
    const damaged = blobs.map((b) => b.slice());
    damaged[7]![damaged[7]!.length - 60]! ^= 0x04;
    expect(await code(() => openInWorker({ objects: damaged.map((b) => new Blob([b as BlobPart])), sequenceKey: 'adk21937', recordKey, recordId }))).toBe('FRAGMENT_TAMPERED');
  });

  it('the engine keeps the smaller body: WebP for a screenshot, row filters + DEFLATE for 16-bit and where WebP is larger', async () => {
    const info: ImageInfo = { width: 120, height: 90, pixelFormat: 'RGB8' };
    const pixels = screenshot(120, 90, 3);
    const chosen = await encodePixelBody(pixels, info, 'png');
    expect(chosen.bodyEncoding).toBe('webp-lossless');
    expect(chosen.body.length).toBeLessThan((await deflateFilteredRows(pixels, info)).length);
    const gray16: ImageInfo = { width: 20, height: 10, pixelFormat: 'GRAY16' };
    expect((await encodePixelBody(new Uint8Array(400), gray16, 'png')).bodyEncoding).toBe('filtered-deflate-raw');
    // One row of a constant grey: DEFLATE's few bytes beat the RIFF/VP8L headers.
    const flat: ImageInfo = { width: 4, height: 1, pixelFormat: 'GRAY8' };
    const small = await encodePixelBody(new Uint8Array(4), flat, 'png');
    expect(small.bodyEncoding).toBe('filtered-deflate-raw');
  });

  it('a PNG (RGBA, transparent pixels with colour) protected by the real pipeline is a WebP body and opens to the same pixels', async () => {
    const width = 96;
    const height = 64;
    const rgba = screenshot(width, height, 4);
    const png = encodePng({ width, height, data: rgba, channels: 4, depth: 8 });
    const recordKey = generateRecordKey();
    const recordId = generateRecordId();
    const kdf = { memoryKiB: 64, passes: 1, parallelism: 1 };
    const result = await protectInWorker({ source: new Blob([png as BlobPart]), name: 'shot.png', mime: 'image/png', mode: 'auto', sequenceKey: 'adk21937', recordKey: recordKey.slice(), recordId, kdf, parity: 2 });
    expect(result.metadata.bodyEncoding).toBe('webp-lossless');
    expect(result.metadata.image).toEqual({ width, height, pixelFormat: 'RGBA8' });
    // Any two objects may be lost (parity), and the pixels still come back exactly.
    const opened = await openInWorker({ objects: result.objects.slice(2).map((o) => o.blob), sequenceKey: 'adk21937', recordKey, recordId });
    if (opened.kind !== 'image') throw new Error('not an image');
    expect(same(opened.pixels, rgba)).toBe(true);
  });
});
