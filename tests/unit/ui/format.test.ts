import { describe, expect, it } from 'vitest';
import { formatPixels } from '../../../src/ui/components/format.js';

describe('formatPixels (Records list: the true pixel size)', () => {
  it('names width × height, bit depth and channels, and frames when there are several', () => {
    expect(formatPixels({ width: 4032, height: 3024, pixelFormat: 'RGB8' })).toBe('4032 × 3024 · 8-bit RGB');
    expect(formatPixels({ width: 512, height: 512, pixelFormat: 'GRAY16' })).toBe('512 × 512 · 16-bit grey');
    expect(formatPixels({ width: 2, height: 2, pixelFormat: 'RGBA16', frames: 3 })).toBe('2 × 2 · 16-bit RGBA · 3 frames');
    expect(formatPixels({ width: 1, height: 1, pixelFormat: 'GRAY8', frames: 1 })).toBe('1 × 1 · 8-bit grey');
  });
});
