import { ImageDecodeError } from './decode-image.js';

/**
 * The paper's Figure 5.1: the ciphertext drawn as an image of the same width and height as the original.
 * Bytes are taken in order from the ciphertext of the pixels, four per pixel, with alpha forced opaque so the noise
 * is visible.
 */
export function noisePixels(ciphertext: readonly Uint8Array[], width: number, height: number): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  const available = ciphertext.reduce((sum, piece) => sum + piece.length, 0);
  // A compressed body can be shorter than the pixel matrix: repeat the ciphertext to fill the picture.
  let o = 0;
  while (available > 0 && o < out.length) {
    for (const piece of ciphertext) {
      const n = Math.min(piece.length, out.length - o);
      out.set(piece.subarray(0, n), o);
      o += n;
      if (o >= out.length) break;
    }
  }
  for (let a = 3; a < out.length; a += 4) out[a] = 255;
  return out;
}

export function noiseBitmap(ciphertext: readonly Uint8Array[], width: number, height: number): ImageBitmap {
  return pixelBitmap(noisePixels(ciphertext, width, height), width, height);
}

/** RGBA8 pixels to an ImageBitmap, in the worker, so the page only has to place it. */
export function pixelBitmap(rgba: Uint8Array<ArrayBuffer> | Uint8ClampedArray<ArrayBuffer>, width: number, height: number): ImageBitmap {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new ImageDecodeError('This device could not create a canvas to show the image.', 'Save the image instead; its pixels are intact.');
  context.putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength), width, height), 0, 0);
  return canvas.transferToImageBitmap();
}
