import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateRecordId, generateRecordKey } from '../../../src/core/index.js';
import { crc32, deflateSync } from 'node:zlib';
import { filterImage, type ImageInfo } from '../../../src/core/index.js';
import { estimateUpload, imageDimensions, PIXEL_ESTIMATE_TOLERANCE, sealedBytes } from '../../../src/services/upload-estimate.js';
import { sniffType } from '../../../src/workers/decoders/sniff.js';
import { protectInWorker } from '../../../src/workers/protect-engine.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url)));
const KDF = { memoryKiB: 64, passes: 1, parallelism: 1 };

/**
 * A PNG as libpng and most tools write it (adaptive row filters, zlib level 6): the estimate reads the
 * file's size, so it is stated for such files. (A PNG written without filters is larger than its pixels
 * deserve, and its upload comes out below the estimate.) 16-bit samples big-endian, as PNG stores them.
 */
function libpngStyle(info: ImageInfo, pixels: Uint8Array): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(info.width, 0);
  ihdr.writeUInt32BE(info.height, 4);
  ihdr[8] = info.pixelFormat === 'GRAY16' ? 16 : 8;
  ihdr[9] = info.pixelFormat === 'GRAY16' ? 0 : 2;
  const big = info.pixelFormat === 'GRAY16' ? Uint8Array.from(pixels, (_, i) => pixels[i ^ 1]!) : pixels;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(filterImage(big, info), { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}

describe('upload estimate before protecting', () => {
  it('reads width, height and channels from JPEG, PNG and WebP headers', () => {
    for (const [name, expected] of [
      ['photo-board.jpg', { width: 720, height: 477, channels: 3 }],
      ['gray.jpg', { width: 64, height: 48, channels: 1 }],
      ['gray16.png', { width: 37, height: 23, channels: 1, bitDepth: 16 }],
    ] as const) {
      const bytes = fixture(name);
      expect(imageDimensions(sniffType(bytes), bytes)).toEqual(expected);
    }
    const webp = fixture('animated.webp');
    expect(imageDimensions('webp', webp)?.width).toBeGreaterThan(0);
  });

  it('keeping the original file is the exact upload: it equals the sealed objects the engine makes', async () => {
    const jpeg = fixture('photo-board.jpg');
    const file = new File([jpeg as BlobPart], 'photo-board.jpg', { type: 'image/jpeg' });
    const estimate = await estimateUpload(file, 8);
    expect(estimate.pixels).toEqual({ width: 720, height: 477, channels: 3 });
    expect(estimate.approximate).toBe(true);
    const r = await protectInWorker({ source: file, name: file.name, mime: file.type, mode: 'file', sequenceKey: 'adk21937', recordKey: generateRecordKey(), recordId: generateRecordId(), kdf: KDF, parity: 0 });
    expect(r.metadata.bodyEncoding).toBeUndefined();
    expect(estimate.keepOriginalBytes).toBe(r.objects.reduce((s, o) => s + o.blob.size, 0));
    // Pixels cost more than the JPEG: the person sees both figures.
    expect(estimate.bytes).toBeGreaterThan(estimate.keepOriginalBytes!);
  });

  it('a PNG estimate ("about") is within its stated tolerance of the real upload, with WebP bodies (a screenshot) and without (16-bit, a photo)', async () => {
    const width = 320;
    const height = 200;
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24);
    // A screenshot: flat colours, grid lines and "text" blocks.
    const shot = Uint8Array.from({ length: width * height * 3 }, (_, i) => {
      const p = (i / 3) | 0;
      const x = p % width;
      const y = (p / width) | 0;
      const ink = x % 40 === 0 || y % 24 === 0 || (((Math.imul(x >> 2, 73856093) ^ Math.imul(y >> 2, 19349663)) >>> 0) % 9 === 0 && y % 24 > 6);
      return ink ? [30, 60, 200][i % 3]! : 250;
    });
    // A photo saved as PNG: smooth shading plus sensor noise.
    const photo = Uint8Array.from({ length: width * height * 3 }, (_, i) => {
      const p = (i / 3) | 0;
      return Math.max(0, Math.min(255, 90 + ((p % width) >> 2) + ((p / width) >> 2) + (i % 3) * 20 + (rand() >> 3) - 16));
    });
    const gray16 = Uint8Array.from({ length: width * height * 2 }, (_, i) => (i % 2 ? ((i >> 9) & 0x0f) : ((i * 7) & 0xff) ^ (rand() & 3)));
    const rgb: ImageInfo = { width, height, pixelFormat: 'RGB8' };
    const cases = [
      { name: 'shot.png', bytes: libpngStyle(rgb, shot), encoding: 'webp-lossless' },
      { name: 'photo.png', bytes: libpngStyle(rgb, photo) },
      { name: 'ct16.png', bytes: libpngStyle({ width, height, pixelFormat: 'GRAY16' }, gray16), encoding: 'filtered-deflate-raw' },
    ];
    for (const c of cases) {
      const file = new File([c.bytes as BlobPart], c.name, { type: 'image/png' });
      const estimate = await estimateUpload(file, 8, 2);
      expect(estimate.approximate, c.name).toBe(true);
      const r = await protectInWorker({ source: file, name: file.name, mime: file.type, mode: 'auto', sequenceKey: 'adk21937', recordKey: generateRecordKey(), recordId: generateRecordId(), kdf: KDF, parity: 2 });
      if (c.encoding) expect(r.metadata.bodyEncoding, c.name).toBe(c.encoding);
      const actual = r.objects.reduce((s, o) => s + o.blob.size, 0);
      expect(estimate.bytes / actual, c.name).toBeLessThanOrEqual(PIXEL_ESTIMATE_TOLERANCE);
      expect(actual / estimate.bytes, c.name).toBeLessThanOrEqual(PIXEL_ESTIMATE_TOLERANCE);
    }
  });

  it('a file that is not an image has an upper bound (it may compress); sealed size grows with parity', async () => {
    const text = new File(['hello '.repeat(1000)], 'note.txt', { type: 'text/plain' });
    const e = await estimateUpload(text, 8);
    expect(e).toMatchObject({ approximate: true });
    expect(e.keepOriginalBytes).toBeUndefined();
    expect(sealedBytes(1_000_000, 'x', 8, 2)).toBe((sealedBytes(1_000_000, 'x', 8, 0) / 8) * 10);
  });
});
