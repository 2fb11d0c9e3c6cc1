import { describe, expect, it } from 'vitest';
import { gifFrameCount, isAnimated, jpegIsTruncated, sniffType } from '../../../src/workers/decoders/sniff.js';
import { inspect } from '../../../src/workers/decode-image.js';
import { fixture } from './fixtures.js';

describe('content sniffing', () => {
  it.each([
    ['gray16.png', 'png'],
    ['progressive.jpg', 'jpeg'],
    ['animated.gif', 'gif'],
    ['animated.webp', 'webp'],
    ['scan.tiff', 'tiff'],
    ['CT_small.dcm', 'dicom'],
    // Its preamble is a TIFF header ("dual personality"); the DICM marker wins.
    ['MR_small_RLE.dcm', 'dicom'],
  ])('%s is %s', (file, type) => {
    expect(sniffType(fixture(file))).toBe(type);
  });

  it('finds animation in GIF, WebP and APNG, and not in still images', () => {
    expect(isAnimated('gif', fixture('animated.gif'))).toBe(true);
    expect(gifFrameCount(fixture('animated.gif'))).toBe(3);
    expect(isAnimated('webp', fixture('animated.webp'))).toBe(true);
    expect(isAnimated('png', fixture('animated.png'))).toBe(true);
    expect(isAnimated('png', fixture('gray16.png'))).toBe(false);
    expect(isAnimated('png', fixture('palette-trns.png'))).toBe(false);
    const stillGif = Uint8Array.from(atob('R0lGODlhAgACAPAAAP8AAAAA/yH5BAAAAAAALAAAAAACAAIAAAIChF8AOw=='), (c) => c.charCodeAt(0));
    expect(gifFrameCount(stillGif)).toBe(1);
    expect(isAnimated('gif', stillGif)).toBe(false);
  });

  it('tells a truncated JPEG from complete baseline, progressive and EXIF ones', () => {
    expect(jpegIsTruncated(fixture('truncated.jpg'))).toBe(true);
    for (const file of ['progressive.jpg', 'gray.jpg', 'cmyk.jpg', 'exif-orientation-6.jpg', 'photo-board.jpg']) expect(jpegIsTruncated(fixture(file)), file).toBe(false);
    // Cut just before the end-of-image marker.
    const full = fixture('gray.jpg');
    expect(jpegIsTruncated(full.subarray(0, full.length - 2))).toBe(true);
    // Data after EOI (as some cameras append) is not truncation.
    expect(jpegIsTruncated(new Uint8Array([...full, 1, 2, 3, 4]))).toBe(false);
  });

  it('auto mode decisions', () => {
    expect(inspect(fixture('gray16.png'), 'x.png', '')).toEqual({ type: 'png', mime: 'image/png', storeAs: 'pixels' });
    expect(inspect(fixture('animated.webp'), 'a.webp', '')).toEqual({ type: 'webp', mime: 'image/webp', storeAs: 'original-bytes', reason: 'animated' });
    expect(inspect(fixture('truncated.jpg'), 't.jpg', '')).toEqual({ type: 'jpeg', mime: 'image/jpeg', storeAs: 'original-bytes', reason: 'truncated' });
    expect(inspect(fixture('scan.tiff'), 's', '')).toEqual({ type: 'tiff', mime: 'image/tiff', storeAs: 'original-bytes', reason: 'not-decodable-here' });
    expect(inspect(fixture('JPEG-lossy.dcm'), 'j.jpg', 'image/jpeg')).toEqual({ type: 'dicom', mime: 'application/dicom', storeAs: 'original-bytes', reason: 'dicom' });
    expect(inspect(new TextEncoder().encode('%PDF-1.7\n'), 'r.pdf', 'application/pdf')).toEqual({ type: 'unknown', mime: 'application/pdf', storeAs: 'original-bytes', reason: 'not-an-image' });
  });
});
