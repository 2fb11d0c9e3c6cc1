import { describe, expect, it } from 'vitest';
import { displayTags, isDicom, pixelInfo, readDicom } from '../../../src/workers/dicom/dicom-dataset.js';
import { FrameViewer } from '../../../src/workers/frame-viewer.js';
import { decodeJpegSequential } from '../../../src/workers/decoders/jpeg-sequential.js';
import { frameSource } from '../../../src/workers/dicom/dicom-frames.js';
import { fixture, int32Digest, noWasm } from './fixtures.js';

/**
 * Whole-frame checks against pydicom 2.3.1: the digests are SHA-256 of `ds.pixel_array.astype('<i4')`.
 * JPEG-lossy.dcm (12-bit JPEG Extended) is compared with DCMTK 3.6.7's `dcmdjpeg` output read by pydicom.
 */
const MR_DIGEST = 'b8d9a6cee6ff2ea9edbe8b476e54b80cfab8c6a15aff4d431b6c38840a20f7df';

async function values(file: string, frame = 0, name = file) {
  const viewer = await FrameViewer.fromDicom(fixture(file), name, noWasm);
  return { viewer, values: (await viewer.frameValues(frame)).values };
}

describe('DICOM pixel data, decoded in pure TypeScript', () => {
  it('CT_small (Explicit VR LE, signed 16-bit) equals pydicom for every pixel', async () => {
    expect(int32Digest((await values('CT_small.dcm')).values)).toBe('df61a60dfc368c1da244f035ce15d34d67c2254d5c4ec039bc09e939ac413ce1');
  });

  it.each(['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm'])('%s equals the MR slice pydicom reads, for every pixel', async (file) => {
    expect(int32Digest((await values(file)).values)).toBe(MR_DIGEST);
  });

  it.each([
    ['ExplVR_BigEnd.dcm', '312b829de8a28d4df5541c77e95b09058d6ca8b7230dfda992a67bc567d378b0'],
    ['SC_ybr_full_422_uncompressed.dcm', 'b7f33a02551765015b283a8e8ff8b8b853693c52b3064889e6bfe4a91999e42b'],
    ['liver_1frame.dcm', '36ed5e257c356eca6de297967f3081aac0f6565ac30bbf2413e7aed44ede2089'],
    ['SC_rgb_rle_16bit.dcm', 'f83371994262775faa2399179f10daf0a7affb5d47228f7b3ae68d531b347428'],
    ['SC_rgb_small_odd.dcm', '72193c820183f5c6950f2c2be6ef0c16cc168aa21182789e33afc577f5ccf883'],
  ])('%s (big-endian RGB, YBR 4:2:2, 1-bit, 16-bit RLE colour, odd size) equals pydicom', async (file, digest) => {
    expect(int32Digest((await values(file)).values)).toBe(digest);
  });

  it('deflated dataset (image_dfl.dcm) equals pydicom', async () => {
    expect(int32Digest((await values('image_dfl.dcm')).values)).toBe('3ae25f749a71a0f30203397e76a96bee083557a1ff96a0efaa5332ce3a8563a6');
  });

  it('12-bit JPEG Extended: the islow IDCT reproduces DCMTK exactly, all 262,144 pixels', async () => {
    const file = await readDicom(fixture('JPEG-lossy.dcm'));
    const info = pixelInfo(file);
    const decoded = decodeJpegSequential(frameSource(file, info, 0).bytes);
    expect(decoded).toMatchObject({ width: 256, height: 1024, precision: 12, components: 1 });
    expect(int32Digest(decoded.samples)).toBe('5a14dfd887a29ac84e9b77a76b38509438bd5a6fe42cbfac137b348ccdfaabca');
  });

  it('RT Dose: 15 frames of unsigned 32-bit values; the whole stack equals pydicom', async () => {
    const viewer = await FrameViewer.fromDicom(fixture('rtdose.dcm'), 'rtdose.dcm', noWasm);
    expect(viewer.summary.frames).toBe(15);
    const all: number[] = [];
    for (let f = 0; f < 15; f++) all.push(...(await viewer.frameValues(f)).values);
    expect(int32Digest(all)).toBe('e30a4288ac22902293b3b0144d9cd7866d43a96e2e5cf3ec59c6f78595c3a125');
    // Dose Grid Scaling (3004,000E) is the rescale slope: the value range is in Gy.
    expect(viewer.summary.valueRange!.min).toBeCloseTo(0.795, 9);
    expect(viewer.summary.valueRange!.max).toBeCloseTo(1.254, 9);
  });

  it('reports which compressed syntaxes need WebAssembly, as a typed preview error', async () => {
    await expect(FrameViewer.fromDicom(fixture('MR_small_jpeg_ls_lossless.dcm'), 'x.dcm', noWasm)).rejects.toThrow('no WebAssembly');
  });

  it('out-of-range frames are a typed error with a stable reason', async () => {
    const { viewer } = await values('MR_small.dcm');
    await expect(viewer.frameValues(1)).rejects.toMatchObject({ code: 'INPUT_INVALID', details: { reason: 'frame-out-of-range' } });
  });
});

describe('DICOM attributes and recognition', () => {
  it('pixel module, windows and transfer syntax of the MR slice', async () => {
    const info = pixelInfo(await readDicom(fixture('MR_small.dcm')));
    expect(info).toMatchObject({ rows: 64, columns: 64, frames: 1, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1, photometric: 'MONOCHROME2', windows: [{ center: 600, width: 1600, name: 'From file' }], transferSyntax: '1.2.840.10008.1.2.1', previewSupported: true });
  });

  it('display tags of the CT slice, read as pydicom reads them', async () => {
    expect(displayTags(await readDicom(fixture('CT_small.dcm')))).toEqual({ patientName: 'CompressedSamples, CT1', patientId: '1CT1', studyDate: '2004-01-19', modality: 'CT', description: 'e+1', seriesDescription: '', bodyPart: '' });
  });

  it('recognises DICOM by the marker, or by parsing under a DICOM-like name only', () => {
    const part10 = fixture('MR_small_implicit.dcm');
    const metaEnd = 132 + 12 + new DataView(part10.buffer, part10.byteOffset).getUint32(140, true);
    const raw = part10.subarray(metaEnd);
    expect(isDicom(part10, 'anything.bin')).toBe(true);
    expect(isDicom(raw, 'IM0001')).toBe(true);
    expect(isDicom(raw, 'scan.dcm')).toBe(true);
    expect(isDicom(raw, '1.2.840.113619.2.55.3.1234')).toBe(true);
    expect(isDicom(raw, 'notes.txt')).toBe(false);
    // Text that dicom-parser would happily read as one long element is not DICOM.
    expect(isDicom(new TextEncoder().encode('hello world, this is a text file\n'.repeat(20)), 'README')).toBe(false);
    expect(isDicom(new Uint8Array(300), 'zeros')).toBe(false);
  });

  it('a file cut short is a typed "damaged" error, not a crash', async () => {
    const cut = fixture('MR_small.dcm').subarray(0, 5000);
    await expect(FrameViewer.fromDicom(cut, 'cut.dcm', noWasm)).rejects.toMatchObject({ code: 'INPUT_INVALID', details: { reason: 'damaged' } });
  });
});
