import { decode, encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../../src/core/metadata.js';
import { decodePngPixels } from '../../../src/workers/decoders/png-decode.js';
import { encodePng } from '../../../src/workers/decoders/png-encode.js';
import { displayRgba } from '../../../src/workers/decoders/display-pixels.js';
import { fixture } from './fixtures.js';

const le16 = (values: ArrayLike<number>) => Uint8Array.from(Array.from(values).flatMap((v) => [v & 0xff, v >> 8]));
const gray16 = (x: number, y: number) => (x * 1031 + y * 2833 + ((x * y) % 7)) & 0xffff;

async function exportThenDecode(pixels: Uint8Array, image: ImageInfo, frame?: number) {
  const progress: number[] = [];
  const blob = await encodePng(pixels, image, { frame, onProgress: (done) => progress.push(done) });
  return { png: decode(new Uint8Array(await blob.arrayBuffer())), progress, type: blob.type };
}

describe('PNG decode to record formats', () => {
  it('16-bit grey (written by Pillow) → GRAY16, little-endian, every sample', () => {
    const r = decodePngPixels(fixture('gray16.png'));
    const expected = le16(Array.from({ length: 37 * 23 }, (_, i) => gray16(i % 37, Math.floor(i / 37))));
    expect(r).toMatchObject({ width: 37, height: 23, pixelFormat: 'GRAY16' });
    expect(r.pixels).toEqual(expected);
  });

  it('1/2/4-bit grey are scaled to 0…255 into GRAY8; a colour key (tRNS) widens to RGBA', () => {
    const bits2 = encode({ width: 4, height: 1, depth: 8, channels: 1, data: Uint8Array.from([0, 85, 170, 255]) });
    expect(decodePngPixels(bits2).pixels).toEqual(Uint8Array.from([0, 85, 170, 255]));
    // Hand-made 2-bit grey: IHDR depth 2; samples 0,1,2,3 → 0,85,170,255.
    const twoBit = decodePngPixels(encode({ width: 4, height: 1, depth: 2 as 8, channels: 1, data: Uint8Array.from([0b00011011]) }));
    expect(twoBit).toMatchObject({ pixelFormat: 'GRAY8', pixels: Uint8Array.from([0, 85, 170, 255]) });
  });

  it('a damaged PNG is a typed error', () => {
    const bytes = fixture('gray16.png').slice();
    bytes[40] = (bytes[40]! ^ 0xff) & 0xff;
    expect(() => decodePngPixels(bytes)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});

describe('PNG export without a canvas', () => {
  it.each([
    ['GRAY8', 1, 8],
    ['GRAY16', 1, 16],
    ['RGB16', 3, 16],
    ['RGBA16', 4, 16],
    ['RGBA8', 4, 8],
  ] as const)('%s exports at its own depth and decodes to the same samples', async (pixelFormat, channels, depth) => {
    const width = 33;
    const height = 21;
    const count = width * height * channels;
    const samples = Array.from({ length: count }, (_, i) => (depth === 16 ? (i * 40503 + 7) & 0xffff : (i * 37 + 11) & 0xff));
    const pixels = depth === 16 ? le16(samples) : Uint8Array.from(samples);
    const { png, progress, type } = await exportThenDecode(pixels, { width, height, pixelFormat });
    expect(type).toBe('image/png');
    expect(png).toMatchObject({ width, height, depth, channels });
    expect(Array.from(png.data)).toEqual(samples);
    expect(progress.at(-1)).toBe(height);
    expect(decodePngPixels(encode({ width, height, depth, channels, data: depth === 16 ? Uint16Array.from(samples) : Uint8Array.from(samples) })).pixels).toEqual(pixels);
  });

  it('exports the asked frame of a multi-frame record', async () => {
    const frames = [Uint8Array.from([1, 2, 3, 4]), Uint8Array.from([250, 251, 252, 253])];
    const { png } = await exportThenDecode(Uint8Array.from([...frames[0]!, ...frames[1]!]), { width: 2, height: 2, pixelFormat: 'GRAY8', frames: 2 }, 1);
    expect(Array.from(png.data)).toEqual([250, 251, 252, 253]);
  });

  it('refuses pixels shorter than the image', async () => {
    await expect(encodePng(new Uint8Array(3), { width: 2, height: 2, pixelFormat: 'GRAY8' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});

describe('display mapping of record formats', () => {
  it('GRAY16 is scaled by the bits actually used: a 12-bit image is not shown black', () => {
    const rgba = displayRgba(le16([0, 2048, 4095]), { width: 3, height: 1, pixelFormat: 'GRAY16' });
    expect(Array.from(rgba)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('RGBA16 shows v/257', () => {
    expect(Array.from(displayRgba(le16([65535, 257, 0, 32896]), { width: 1, height: 1, pixelFormat: 'RGBA16' }))).toEqual([255, 1, 0, 128]);
  });
});
