/**
 * The `filtered-deflate-raw` pixel codec (FORMAT.md §6.2): every filter type, 8- and 16-bit, 1–4
 * channels, frames, round-trips bit-exactly; crafted bodies fail with METADATA_INVALID.
 */
import fc from 'fast-check';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  FILTER_AVERAGE,
  FILTER_NONE,
  FILTER_PAETH,
  FILTER_SUB,
  FILTER_UP,
  PIXEL_FORMATS,
  filterImage,
  filteredLength,
  unfilterImage,
  type ImageInfo,
  type PixelFormat,
} from '../../../src/core/index.js';
import { deflateFilteredRows, inflateFilteredRows } from '../../../src/workers/deflate.js';

/** The engine's codec (filters in the core, native DEFLATE in the Worker module). */
const encodeFilteredDeflate = (pixels: Uint8Array, info: ImageInfo) => deflateFilteredRows(pixels, info);
const decodeFilteredDeflate = (body: Uint8Array, info: ImageInfo) => inflateFilteredRows(body, info);

async function caughtAsync(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Byte equality without a deep diff (megabyte buffers make vitest's diff slow). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

const FORMATS = Object.keys(PIXEL_FORMATS) as PixelFormat[];

const imageArb = fc
  .record({ width: fc.integer({ min: 1, max: 19 }), height: fc.integer({ min: 1, max: 9 }), frames: fc.integer({ min: 1, max: 3 }), pixelFormat: fc.constantFrom(...FORMATS), smooth: fc.boolean() })
  .chain((shape) => {
    const f = PIXEL_FORMATS[shape.pixelFormat];
    const length = shape.width * shape.height * shape.frames * f.channels * f.bytesPerSample;
    return fc.tuple(fc.constant(shape), fc.uint8Array({ minLength: length, maxLength: length }));
  })
  .map(([shape, bytes]) => {
    // Smooth images make the heuristic pick Sub/Up/Average/Paeth; random ones mostly None.
    if (shape.smooth) for (let i = 1; i < bytes.length; i++) bytes[i] = (bytes[i - 1]! + (bytes[i]! & 3)) & 0xff;
    const info: ImageInfo = { width: shape.width, height: shape.height, pixelFormat: shape.pixelFormat, frames: shape.frames };
    return { info, pixels: bytes };
  });

describe('row filters', () => {
  it('every filter type forced on every row reverses to the same pixels, 8/16-bit, 1–4 channels', () => {
    fc.assert(
      fc.property(imageArb, fc.constantFrom(FILTER_NONE, FILTER_SUB, FILTER_UP, FILTER_AVERAGE, FILTER_PAETH), ({ info, pixels }, filter) => {
        const filtered = filterImage(pixels, info, () => filter);
        expect(filtered.length).toBe(filteredLength(info));
        expect(same(unfilterImage(filtered, info), pixels)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a mix of filters per row reverses to the same pixels', () => {
    fc.assert(
      fc.property(imageArb, fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 27 }), ({ info, pixels }, choice) => {
        const filtered = filterImage(pixels, info, (r) => choice[r % choice.length]!);
        expect(same(unfilterImage(filtered, info), pixels)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('encode → decode is bit-exact with the adaptive choice, and the body is raw DEFLATE of the filtered rows', () => {
    fc.assert(
      fc.asyncProperty(imageArb, async ({ info, pixels }) => {
        const body = await encodeFilteredDeflate(pixels, info);
        expect(same(inflateRawSync(body), filterImage(pixels, info))).toBe(true);
        expect(same(await decodeFilteredDeflate(body, info), pixels)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('the heuristic picks each filter where it is the one with the smallest residuals', () => {
    const info: ImageInfo = { width: 8, height: 2, pixelFormat: 'GRAY8' };
    const types = (pixels: number[]) => {
      const f = filterImage(Uint8Array.from(pixels), info);
      return [f[0], f[9]];
    };
    // Row 0 flat zero → None; row 1 constant → Up is zero residual only if equal to row 0, else Sub.
    expect(types([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toEqual([FILTER_NONE, FILTER_NONE]);
    expect(types([200, 201, 202, 203, 204, 205, 206, 207, 9, 10, 11, 12, 13, 14, 15, 16])).toEqual([FILTER_SUB, FILTER_SUB]);
    expect(types([200, 10, 200, 10, 200, 10, 200, 10, 200, 10, 200, 10, 200, 10, 200, 10])[1]).toBe(FILTER_UP);
  });

  it('a 16-bit slice and a 3-frame RGBA16 image round-trip through large batches', async () => {
    const info: ImageInfo = { width: 611, height: 1723, pixelFormat: 'GRAY16' };
    const pixels = new Uint8Array(611 * 1723 * 2);
    for (let i = 0; i < pixels.length; i += 2) {
      const v = (Math.sin(i / 977) * 2000 + 2048 + (i % 7)) & 0xffff;
      pixels[i] = v & 0xff;
      pixels[i + 1] = v >> 8;
    }
    const body = await encodeFilteredDeflate(pixels, info);
    expect(body.length).toBeLessThan(pixels.length / 2);
    expect(same(await decodeFilteredDeflate(body, info), pixels)).toBe(true);
    const rgba: ImageInfo = { width: 33, height: 17, pixelFormat: 'RGBA16', frames: 3 };
    const p2 = Uint8Array.from({ length: 33 * 17 * 3 * 8 }, (_, i) => (i * 31) % 253);
    expect(same(await decodeFilteredDeflate(await encodeFilteredDeflate(p2, rgba), rgba), p2)).toBe(true);
  });

  it('crafted bodies fail with METADATA_INVALID: unknown filter, short, long, not DEFLATE', async () => {
    const info: ImageInfo = { width: 4, height: 3, pixelFormat: 'RGB8' };
    const pixels = Uint8Array.from({ length: 36 }, (_, i) => i * 7);
    const filtered = filterImage(pixels, info);
    const badType = filtered.slice();
    badType[13] = 5;
    expect(await caughtAsync(() => decodeFilteredDeflate(deflateRawSync(badType), info))).toMatchObject({ code: 'METADATA_INVALID', details: { row: 1, filter: 5 } });
    expect(await caughtAsync(() => decodeFilteredDeflate(deflateRawSync(filtered.subarray(0, 38)), info))).toMatchObject({ code: 'METADATA_INVALID' });
    expect(await caughtAsync(() => decodeFilteredDeflate(deflateRawSync(Buffer.concat([filtered, Buffer.from([0])])), info))).toMatchObject({ code: 'METADATA_INVALID' });
    expect(await caughtAsync(() => decodeFilteredDeflate(Uint8Array.from([0xff, 0xff, 0xff]), info))).toMatchObject({ code: 'METADATA_INVALID' });
    expect(await caughtAsync(() => decodeFilteredDeflate(new Uint8Array(0), info))).toMatchObject({ code: 'METADATA_INVALID' });
  });
});
