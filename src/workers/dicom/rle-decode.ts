import { DicomPreviewError } from './dicom-error.js';

/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of up to 15 segment offsets, then one PackBits
 * segment per byte plane, most significant byte of each sample first, one sample (colour) after
 * another. Returns the frame as native little-endian bytes, samples interleaved by pixel.
 */
export function decodeRle(frame: Uint8Array, pixels: number, samplesPerPixel: number, bytesPerSample: number): Uint8Array {
  if (frame.length < 64) throw new DicomPreviewError('damaged', 'An RLE frame is shorter than its header.');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected || segments > 15) throw new DicomPreviewError('damaged', `An RLE frame has ${segments} segments; ${expected} were expected.`, { segments, expected });
  const out = new Uint8Array(pixels * expected);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || end < start) throw new DicomPreviewError('damaged', 'An RLE segment lies outside its frame.');
    const sample = Math.floor(s / bytesPerSample);
    // Segment 0 of a sample is its most significant byte: the last byte of a little-endian sample.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = expected;
    let o = sample * bytesPerSample + byteInSample;
    const outEnd = out.length;
    let i = start;
    let written = 0;
    while (i < end && written < pixels) {
      const n = frame[i++]!;
      if (n < 128) {
        const count = Math.min(n + 1, pixels - written, end - i);
        for (let k = 0; k < count; k++, o += stride) out[o] = frame[i + k]!;
        i += n + 1;
        written += count;
      } else if (n > 128) {
        const value = frame[i++]!;
        const count = Math.min(257 - n, pixels - written);
        for (let k = 0; k < count && o < outEnd; k++, o += stride) out[o] = value;
        written += count;
      }
    }
    if (written < pixels) throw new DicomPreviewError('damaged', 'An RLE segment ends before the image is complete.', { segment: s, written, pixels });
  }
  return out;
}
