import { describe, expect, it } from 'vitest';
import { maskToBitsStored, nativeSamples } from '../../../src/workers/dicom/dicom-frames.js';
import type { DicomPixelInfo } from '../../../src/workers/dicom/dicom-dataset.js';
import { decodeText, formatDate, formatPersonName } from '../../../src/workers/dicom/dicom-text.js';
import { CT_WINDOW_PRESETS, displayLevel, fullRangeWindow, renderGray, voi, windowPresets } from '../../../src/workers/dicom/windowing.js';
import { decodeRle } from '../../../src/workers/dicom/rle-decode.js';

const linear = { rescaleSlope: 1, rescaleIntercept: 0, voiLutFunction: 'LINEAR' as const, invert: false };

describe('VOI LUT functions (PS3.3 C.11.2.1.2)', () => {
  it('LINEAR: the standard\'s bounds and a mid value (c = 40, w = 80)', () => {
    // x ≤ c − 0.5 − (w−1)/2 = 0 → 0; x > c − 0.5 + (w−1)/2 = 79 → 255.
    expect(voi(0, { center: 40, width: 80 }, 'LINEAR')).toBe(0);
    expect(voi(79.0001, { center: 40, width: 80 }, 'LINEAR')).toBe(255);
    expect(voi(39.5, { center: 40, width: 80 }, 'LINEAR')).toBeCloseTo(127.5, 10);
    // Width 1 is a threshold at c − 0.5.
    expect(voi(99.5, { center: 100, width: 1 }, 'LINEAR')).toBe(0);
    expect(voi(99.6, { center: 100, width: 1 }, 'LINEAR')).toBe(255);
  });

  it('LINEAR_EXACT and SIGMOID', () => {
    expect(voi(0, { center: 40, width: 80 }, 'LINEAR_EXACT')).toBe(0);
    expect(voi(40, { center: 40, width: 80 }, 'LINEAR_EXACT')).toBe(127.5);
    expect(voi(80.5, { center: 40, width: 80 }, 'LINEAR_EXACT')).toBe(255);
    expect(voi(40, { center: 40, width: 80 }, 'SIGMOID')).toBe(127.5);
    expect(voi(1e6, { center: 40, width: 80 }, 'SIGMOID')).toBeCloseTo(255, 6);
  });

  it('rescale to HU, then window; MONOCHROME1 inverts', () => {
    const ct = { ...linear, rescaleIntercept: -1024 };
    // Stored 1024 → 0 HU; soft-tissue window 50/400 → ((0 − 49.5)/399 + 0.5)·255 = 95.9 → 96.
    expect(displayLevel(1024, { center: 50, width: 400 }, ct)).toBe(96);
    expect(displayLevel(1024, { center: 50, width: 400 }, { ...ct, invert: true })).toBe(159);
  });

  it('the lookup-table render equals the formula for every stored value', () => {
    const samples = Int16Array.from({ length: 4096 }, (_, i) => i - 2048);
    const out = new Uint8ClampedArray(samples.length * 4);
    const window = { center: -600, width: 1500 };
    renderGray(samples, { min: -2048, max: 2047 }, window, linear, out);
    for (let i = 0; i < samples.length; i++) expect(out[i * 4]).toBe(displayLevel(samples[i]!, window, linear));
  });

  it('full-range window spans min…max exactly; presets', () => {
    const w = fullRangeWindow(-896, 1167);
    expect(w).toEqual({ center: 136, width: 2064 });
    expect(voi(-896, w, 'LINEAR')).toBe(0);
    expect(voi(1167, w, 'LINEAR')).toBe(255);
    expect(windowPresets([], 'CT', { min: -896, max: 1167 }).slice(1)).toEqual(CT_WINDOW_PRESETS);
    expect(windowPresets([{ name: 'A', center: 1, width: 2 }], 'MR', { min: 0, max: 9 }).map((p) => p.name)).toEqual(['A', 'Full range']);
  });
});

const info = (over: Partial<DicomPixelInfo>): DicomPixelInfo => ({
  rows: 1, columns: 4, frames: 1, samplesPerPixel: 1, bitsAllocated: 16, bitsStored: 16, highBit: 15, pixelRepresentation: 0, photometric: 'MONOCHROME2', planarConfiguration: 0,
  rescaleSlope: 1, rescaleIntercept: 0, windows: [], voiLutFunction: 'LINEAR', modality: '', transferSyntax: '', transferSyntaxName: '', previewSupported: true, ...over,
});

describe('stored bits, byte order and packing (PS3.5 8.1.1)', () => {
  it('12 bits stored in 16, signed: high bits (e.g. overlays) are dropped and the sign extended', () => {
    const samples = Int16Array.from([0x0fff, 0x0800, 0x7001, -1]);
    expect(Array.from(maskToBitsStored(samples, { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1 }))).toEqual([-1, -2048, 1, -1]);
    const unsigned = Uint16Array.from([0xf123]);
    expect(Array.from(maskToBitsStored(unsigned, { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 0 }))).toEqual([0x123]);
    // High bit not at the top of the stored bits' natural place: shifted down.
    expect(Array.from(maskToBitsStored(Uint16Array.from([0x1230]), { bitsAllocated: 16, bitsStored: 12, highBit: 15, pixelRepresentation: 0 }))).toEqual([0x123]);
  });

  it('big-endian 16-bit samples and 1-bit packed frames', () => {
    expect(Array.from(nativeSamples(Uint8Array.from([0x01, 0x02, 0xff, 0xfe, 0, 0, 0, 1]), info({ pixelRepresentation: 1 }), true, 0))).toEqual([0x0102, -2, 0, 1]);
    // Two 1×4 frames in one byte, least significant bit first; frame 1 starts at bit 4.
    expect(Array.from(nativeSamples(Uint8Array.from([0b1010_0110]), info({ bitsAllocated: 1, bitsStored: 1, highBit: 0, frames: 2 }), false, 1))).toEqual([0, 1, 0, 1]);
  });

  it('RLE: literal and repeat runs, most significant byte segment first', () => {
    const header = new Uint8Array(64);
    const view = new DataView(header.buffer);
    view.setUint32(0, 2, true);
    view.setUint32(4, 64, true);
    view.setUint32(8, 68, true);
    // Segment 1 (high bytes): repeat 0x01 four times (−3 → 4 copies). Segment 2 (low bytes): literal 4.
    const frame = Uint8Array.from([...header, 0xfd, 0x01, 0x80, 0x00, 0x03, 0x10, 0x20, 0x30, 0x40]);
    expect(Array.from(decodeRle(frame, 4, 1, 2))).toEqual([0x10, 0x01, 0x20, 0x01, 0x30, 0x01, 0x40, 0x01]);
  });
});

describe('DICOM text', () => {
  it('decodes by Specific Character Set', () => {
    expect(decodeText(new TextEncoder().encode('Müller^Jürgen '), 'ISO_IR 192')).toBe('Müller^Jürgen');
    expect(decodeText(Uint8Array.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x00]), 'ISO_IR 100')).toBe('Müller');
    expect(decodeText(Uint8Array.from([0xb8, 0xd2, 0xd0, 0xdd, 0xde, 0xd2]), 'ISO_IR 144')).toBe('Иванов');
  });

  it('formats person names and dates', () => {
    expect(formatPersonName('Doe^John^Q^Dr^Jr')).toBe('Doe, Dr John Q Jr');
    expect(formatPersonName('CompressedSamples^CT1')).toBe('CompressedSamples, CT1');
    expect(formatPersonName('=山田^太郎')).toBe('山田, 太郎');
    expect(formatDate('20040119')).toBe('2004-01-19');
    expect(formatDate('2004.01.19')).toBe('2004-01-19');
    expect(formatDate('unknown')).toBe('unknown');
  });
});
