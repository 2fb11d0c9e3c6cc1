import { PIXEL_FORMATS, type ImageInfo } from '../../core/metadata.js';

/**
 * RGBA8 for showing a record's first frame (FORMAT.md §6.3); the record's own pixels are not changed.
 * 16-bit colour is shown as v/257 (how any viewer shows a 16-bit PNG). 16-bit grey is scaled by the
 * bits actually used: a 12-bit X-ray stored in 16-bit samples would otherwise look black. For
 * windowing, use the viewer (FrameViewerClient).
 */
export function displayRgba(pixels: Uint8Array, image: ImageInfo): Uint8ClampedArray<ArrayBuffer> {
  const count = image.width * image.height;
  const out = new Uint8ClampedArray(count * 4);
  const format = PIXEL_FORMATS[image.pixelFormat];
  if (image.pixelFormat === 'RGBA8') {
    out.set(pixels.subarray(0, count * 4));
    return out;
  }
  if (image.pixelFormat === 'GRAY8') {
    for (let i = 0; i < count; i++) {
      const g = pixels[i]!;
      out[4 * i] = g;
      out[4 * i + 1] = g;
      out[4 * i + 2] = g;
      out[4 * i + 3] = 255;
    }
    return out;
  }
  if (image.pixelFormat === 'RGB8') {
    for (let i = 0; i < count; i++) {
      out[4 * i] = pixels[3 * i]!;
      out[4 * i + 1] = pixels[3 * i + 1]!;
      out[4 * i + 2] = pixels[3 * i + 2]!;
      out[4 * i + 3] = 255;
    }
    return out;
  }
  const sample = (i: number) => pixels[2 * i]! | (pixels[2 * i + 1]! << 8);
  if (image.pixelFormat === 'GRAY16') {
    let max = 0;
    for (let i = 0; i < count; i++) max = Math.max(max, sample(i));
    const bits = Math.max(8, Math.ceil(Math.log2(max + 1)));
    const scale = 255 / (2 ** bits - 1);
    for (let i = 0; i < count; i++) {
      const g = Math.round(sample(i) * scale);
      out[4 * i] = g;
      out[4 * i + 1] = g;
      out[4 * i + 2] = g;
      out[4 * i + 3] = 255;
    }
    return out;
  }
  const channels = format.channels;
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) out[4 * i + c] = Math.round(sample(i * channels + c) / 257);
    out[4 * i + 3] = channels === 4 ? Math.round(sample(i * channels + 3) / 257) : 255;
  }
  return out;
}
