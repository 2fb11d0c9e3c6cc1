import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from './test.js';

/**
 * Real DICOM files of several transfer syntaxes: protected byte for byte, then previewed. Expected stored
 * values were read with pydicom 2.3.1 (`ds.pixel_array[y, x]`, Debian python3-pydicom); where pydicom
 * cannot decode a syntax here (JPEG Extended 12-bit, JPEG-LS) the file was first decompressed with DCMTK
 * 3.6.7 (`dcmdjpeg`, `dcmdjpls`) and then read with pydicom. Lossless files of the same MR slice must
 * give MR_small.dcm's values exactly.
 */

async function openHarness(page: Page) {
  await page.goto('/tests/browser/harness.html');
  await page.waitForSelector('body[data-ready="true"]');
}

const fixture = async (name: string) => (await readFile(new URL(`../fixtures/${name}`, import.meta.url))).toString('base64');

type Probe = readonly [frame: number, x: number, y: number];

/** PS3.3 C.11.2.1.2.1 LINEAR, written out here independently of the app's implementation. */
function linear(stored: number, slope: number, intercept: number, center: number, width: number): number {
  const x = stored * slope + intercept;
  if (x <= center - 0.5 - (width - 1) / 2) return 0;
  if (x > center - 0.5 + (width - 1) / 2) return 255;
  return Math.round(((x - (center - 0.5)) / (width - 1) + 0.5) * 255);
}

async function dicom(page: Page, file: string, probes: readonly Probe[], renders: readonly { frame?: number; center?: number; width?: number }[] = [{}], name = file) {
  const b64 = await fixture(file);
  return page.evaluate(([b, n, p, r]) => window.harness.clinical.dicom(b, n, p, r), [b64, name, probes, renders] as const);
}

/** MR_small.dcm's stored values at these probes (pydicom). */
const MR_PROBES: readonly Probe[] = [
  [0, 0, 0],
  [0, 20, 10],
  [0, 32, 31],
  [0, 63, 63],
];
const MR_VALUES = [[905], [316], [210], [862]];

test.describe('clinical: DICOM kept bit-exact, previewed with the right values', () => {
  test.beforeEach(async ({ page }) => openHarness(page));

  test('CT, Explicit VR Little Endian, signed 16-bit: bytes, values, HU window and display tags', async ({ page }) => {
    const probes: readonly Probe[] = [
      [0, 0, 0],
      [0, 64, 64],
      [0, 30, 100],
      [0, 127, 127],
    ];
    const r = await dicom(page, 'CT_small.dcm', probes, [{}, { center: -600, width: 1500 }]);
    expect(r.error).toBeUndefined();
    expect(r.stored).toEqual({ as: 'original-bytes', type: 'dicom', reason: 'dicom' });
    expect(r.metadata).toMatchObject({ kind: 'file', name: 'CT_small.dcm', mime: 'application/dicom', bodyEncoding: 'deflate-raw', contentLength: 39206 });
    expect(r.bytesEqual).toBe(true);
    expect(r.dicom).toBe(true);
    expect(r.values).toEqual([[175], [1928], [1089], [909]]);
    const s = r.summary!;
    expect(s).toMatchObject({ source: 'dicom', width: 128, height: 128, frames: 1, grayscale: true, units: 'HU' });
    expect(s.dicom).toMatchObject({ modality: 'CT', transferSyntax: '1.2.840.10008.1.2.1', rescaleSlope: 1, rescaleIntercept: -1024, bitsStored: 16 });
    // Display tags, parsed in the worker after opening (pydicom: PatientName "CompressedSamples^CT1").
    expect(s.dicom!.tags).toEqual({ patientName: 'CompressedSamples, CT1', patientId: '1CT1', studyDate: '2004-01-19', modality: 'CT', description: 'e+1', seriesDescription: '', bodyPart: '' });
    // No window in the file: the default is the full range of the slice in HU (stored 128…2191 − 1024).
    expect(s.valueRange).toEqual({ min: -896, max: 1167 });
    expect(s.defaultWindow).toEqual({ name: 'Full range', center: 136, width: 2064 });
    expect(s.presets.map((p) => p.name)).toEqual(['Full range', 'Brain', 'Subdural', 'Stroke', 'Soft tissue', 'Mediastinum', 'Liver', 'Lung', 'Bone']);
    const [full, lung] = r.rendered!;
    expect(full!.window).toEqual({ center: 136, width: 2064 });
    expect(full!.levels).toEqual([175, 1928, 1089, 909].map((v) => { const g = linear(v, 1, -1024, 136, 2064); return [g, g, g, 255]; }));
    expect(lung!.levels).toEqual([175, 1928, 1089, 909].map((v) => { const g = linear(v, 1, -1024, -600, 1500); return [g, g, g, 255]; }));
    expect(r.progressCalls).toBeGreaterThanOrEqual(2);
    expect(r.outOfRange).toEqual({ code: 'INPUT_INVALID', reason: 'frame-out-of-range' });
  });

  test('MR, RLE Lossless: bytes, and the same values as the uncompressed slice', async ({ page }) => {
    const r = await dicom(page, 'MR_small_RLE.dcm', MR_PROBES, [{}]);
    expect(r.bytesEqual).toBe(true);
    expect(r.stored?.reason).toBe('dicom');
    expect(r.summary!.dicom!.transferSyntax).toBe('1.2.840.10008.1.2.5');
    expect(r.values).toEqual(MR_VALUES);
    // The file's own window (0028,1050/1051) = 600/1600 is the default.
    expect(r.summary!.defaultWindow).toEqual({ name: 'From file', center: 600, width: 1600 });
    expect(r.rendered![0]!.levels).toEqual(MR_VALUES.map(([v]) => { const g = linear(v!, 1, 0, 600, 1600); return [g, g, g, 255]; }));
  });

  test('NM, JPEG Extended 12-bit (1.2.840.10008.1.2.4.51): every probe equals DCMTK\'s decode', async ({ page }) => {
    const probes: readonly Probe[] = [
      [0, 0, 0],
      [0, 128, 400],
      [0, 100, 600],
      [0, 150, 300],
      [0, 143, 421],
      [0, 60, 800],
    ];
    const r = await dicom(page, 'JPEG-lossy.dcm', probes);
    expect(r.bytesEqual).toBe(true);
    expect(r.summary).toMatchObject({ width: 256, height: 1024, frames: 1, grayscale: true });
    expect(r.summary!.dicom).toMatchObject({ transferSyntax: '1.2.840.10008.1.2.4.51', bitsStored: 12, modality: 'NM' });
    expect(r.values).toEqual([[1], [64], [23], [58], [264], [1]]);
    expect(r.summary!.valueRange).toEqual({ min: 0, max: 264 });
  });

  test('MR, JPEG-LS Lossless (CharLS WASM) and JPEG 2000 Lossless (OpenJPEG WASM): MR_small values exactly', async ({ page }) => {
    for (const [file, syntax] of [
      ['MR_small_jpeg_ls_lossless.dcm', '1.2.840.10008.1.2.4.80'],
      ['MR_small_jp2klossless.dcm', '1.2.840.10008.1.2.4.90'],
    ] as const) {
      const r = await dicom(page, file, MR_PROBES);
      expect(r.viewerError, file).toBeUndefined();
      expect(r.bytesEqual, file).toBe(true);
      expect(r.summary!.dicom!.transferSyntax, file).toBe(syntax);
      expect(r.values, file).toEqual(MR_VALUES);
    }
  });

  test('MR, Implicit VR and Explicit VR Big Endian: MR_small values exactly', async ({ page }) => {
    for (const file of ['MR_small_implicit.dcm', 'MR_small_bigendian.dcm']) {
      const r = await dicom(page, file, MR_PROBES);
      expect(r.bytesEqual, file).toBe(true);
      expect(r.values, file).toEqual(MR_VALUES);
    }
  });

  test('colour: JPEG Baseline YBR_FULL (libjpeg-turbo WASM) and a two-frame RLE RGB study', async ({ page }) => {
    const probes: readonly Probe[] = [
      [0, 0, 0],
      [0, 50, 5],
      [0, 50, 50],
      [0, 99, 99],
      [0, 70, 30],
    ];
    // Expected: Pillow 9.4 (libjpeg-turbo) decoding the same JPEG fragment to RGB.
    const expected = [
      [254, 0, 0],
      [254, 0, 0],
      [125, 130, 255],
      [255, 255, 255],
      [130, 254, 130],
    ];
    const jpeg = await dicom(page, 'SC_rgb_jpeg_dcmtk.dcm', probes);
    expect(jpeg.bytesEqual).toBe(true);
    expect(jpeg.summary).toMatchObject({ grayscale: false, frames: 1 });
    expect(jpeg.values).toEqual(expected);
    expect(jpeg.rendered![0]!.levels).toEqual(expected.map((c) => [...c, 255]));

    const rleProbes: readonly Probe[] = [
      [0, 0, 0],
      [1, 0, 0],
      [0, 50, 50],
      [1, 99, 99],
    ];
    const rle = await dicom(page, 'SC_rgb_rle_2frame.dcm', rleProbes, [{ frame: 1 }]);
    expect(rle.bytesEqual).toBe(true);
    expect(rle.summary!.frames).toBe(2);
    expect(rle.values).toEqual([
      [255, 0, 0],
      [0, 255, 255],
      [128, 128, 255],
      [0, 0, 0],
    ]);
    expect(rle.rendered![0]).toMatchObject({ frame: 1, levels: [[0, 255, 255, 255], [0, 0, 0, 255]] });
  });

  test('multi-frame RT Dose (15 frames, 32-bit, Implicit VR): frame slider values and Dose Grid Scaling', async ({ page }) => {
    const probes: readonly Probe[] = [
      [0, 0, 0],
      [0, 5, 5],
      [7, 4, 3],
      [14, 9, 9],
    ];
    const r = await dicom(page, 'rtdose.dcm', probes, [{ frame: 14 }, { frame: 7, center: 1, width: 0.5 }]);
    expect(r.bytesEqual).toBe(true);
    expect(r.summary).toMatchObject({ frames: 15, width: 10, height: 10, grayscale: true });
    expect(r.summary!.dicom!.rescaleSlope).toBeCloseTo(1e-6, 12);
    expect(r.values).toEqual([[1249000], [978000], [1074000], [799000]]);
    expect(r.rendered!.map((x) => x.frame)).toEqual([14, 7]);
    // Width below 1 is raised to 1 (PS3.3: width ≥ 1): a threshold at 1 Gy − 0.5.
    expect(r.rendered![1]!.window).toEqual({ center: 1, width: 1 });
    expect(r.rendered![1]!.levels).toEqual([[255, 255, 255, 255]]);
    expect(r.progressCalls).toBe(16);
  });

  test('Deflated Explicit VR Little Endian: inflated before parsing, values as pydicom', async ({ page }) => {
    const probes: readonly Probe[] = [
      [0, 0, 0],
      [0, 256, 256],
      [0, 400, 100],
      [0, 511, 511],
    ];
    const r = await dicom(page, 'image_dfl.dcm', probes);
    expect(r.viewerError).toBeUndefined();
    expect(r.bytesEqual).toBe(true);
    expect(r.summary!.dicom!.transferSyntax).toBe('1.2.840.10008.1.2.1.99');
    expect(r.values).toEqual([[213], [65], [70], [188]]);
  });

  test('a DICOM file without preamble and "DICM", named without extension, is recognised by parsing', async ({ page }) => {
    const bytes = await readFile(new URL('../fixtures/MR_small_implicit.dcm', import.meta.url));
    // File Meta group: (0002,0000) UL group length at 132; the dataset starts after the group.
    const metaEnd = 132 + 12 + bytes.readUInt32LE(140);
    const raw = bytes.subarray(metaEnd).toString('base64');
    const r = await page.evaluate(([b]) => window.harness.clinical.dicom(b, 'IM0001', [[0, 0, 0], [0, 20, 10]], [{}]), [raw] as const);
    expect(r.stored).toEqual({ as: 'original-bytes', type: 'dicom', reason: 'dicom' });
    expect(r.metadata).toMatchObject({ mime: 'application/dicom' });
    expect(r.bytesEqual).toBe(true);
    expect(r.dicom).toBe(true);
    expect(r.values).toEqual([[905], [316]]);
    // The same bytes under a name that is not DICOM-like are not parsed as DICOM.
    const other = await page.evaluate(([b]) => window.harness.clinical.inspect(b, 'notes.txt', 'text/plain'), [raw] as const);
    expect(other).toEqual({ type: 'unknown', mime: 'text/plain', storeAs: 'original-bytes', reason: 'not-an-image' });
  });

  test('dragging the window: a burst of renders draws the first and the last, never a stale one', async ({ page }) => {
    const b64 = await fixture('MR_small.dcm');
    const r = await page.evaluate(([b]) => window.harness.clinical.dragBurst(b, 'MR_small.dcm', 20), [b64] as const);
    expect(r.drawn).toBe(2);
    expect(r.last).toEqual({ center: 690, width: 1000 });
  });

  test('engine.dicomSummary returns frame count, presets and display tags in one worker call', async ({ page }) => {
    const b64 = await fixture('MR_small.dcm');
    const s = await page.evaluate(([b]) => window.harness.clinical.dicomSummary(b, 'MR_small.dcm'), [b64] as const);
    expect(s).toMatchObject({ frames: 1, width: 64, height: 64, units: '' });
    expect(s.dicom!.tags).toMatchObject({ patientName: 'CompressedSamples, MR1', modality: 'MR' });
  });
});
