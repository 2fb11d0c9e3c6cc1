import { PIXEL_FORMATS, type ImageInfo } from '../core/metadata.js';
import { InputInvalidError } from '../core/errors.js';
import { readDicom, pixelInfo, displayTags, type DicomFile, type DicomPixelInfo, type WindowSetting } from './dicom/dicom-dataset.js';
import { decodeFrame, type DecodedFrame, type WasmDecode } from './dicom/dicom-decode.js';
import { DicomPreviewError } from './dicom/dicom-error.js';
import type { SampleArray } from './dicom/dicom-frames.js';
import { fullRangeWindow, renderColor, renderGray, sampleRange, windowPresets, type GrayPipeline } from './dicom/windowing.js';
import type { FrameValues, RenderRequest, ViewerSummary } from './viewer-api.js';

interface FrameSource {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly grayscale: boolean;
  readonly pipeline: GrayPipeline;
  readonly bitsStored: number;
  decode(frame: number): Promise<DecodedFrame>;
}

interface Range {
  readonly min: number;
  readonly max: number;
}

interface CachedFrame {
  readonly frame: DecodedFrame;
  /** In modality units (after rescale). */
  readonly range: Range;
  /** Of the stored values, for the lookup table. */
  readonly stored: Range;
}

/** Decoded frames kept for scrolling back and forth; beyond this, the least recently used go. */
const CACHE_BYTES = 256 * 1024 * 1024;

/**
 * One image held in a worker for viewing: a DICOM file (decoded frame by frame, on demand) or a pixel
 * record (GRAY8/GRAY16/… frames). Renders RGBA8 for display; never changes the record.
 */
export class FrameViewer {
  private readonly cache = new Map<number, CachedFrame>();
  private cachedBytes = 0;

  private constructor(
    private readonly source: FrameSource,
    readonly summary: ViewerSummary,
  ) {}

  static async fromDicom(bytes: Uint8Array, name: string, wasm: WasmDecode): Promise<FrameViewer> {
    const file = await readDicom(bytes, name);
    const info = pixelInfo(file);
    if (!info.previewSupported) {
      throw new DicomPreviewError('unsupported-transfer-syntax', `Images compressed as ${info.transferSyntaxName} cannot be previewed here.`, { transferSyntax: info.transferSyntax });
    }
    const grayscale = info.samplesPerPixel === 1 && (info.photometric === 'MONOCHROME1' || info.photometric === 'MONOCHROME2');
    if (!grayscale && info.samplesPerPixel !== 3) {
      throw new DicomPreviewError('unsupported-pixel-layout', `Images with photometric interpretation ${info.photometric} cannot be previewed here.`, { photometric: info.photometric });
    }
    const source: FrameSource = {
      width: info.columns,
      height: info.rows,
      frames: info.frames,
      grayscale,
      bitsStored: info.bitsStored,
      pipeline: { rescaleSlope: info.rescaleSlope, rescaleIntercept: info.rescaleIntercept, voiLutFunction: info.voiLutFunction, invert: info.photometric === 'MONOCHROME1' },
      decode: (frame) => decodeFrame(file, info, frame, wasm),
    };
    const viewer = new FrameViewer(source, { source: 'dicom', width: info.columns, height: info.rows, frames: info.frames, grayscale, presets: [], units: '' });
    return viewer.withSummary(await viewer.dicomSummary(file, info));
  }

  static async fromPixels(pixels: Uint8Array, image: ImageInfo): Promise<FrameViewer> {
    const format = PIXEL_FORMATS[image.pixelFormat];
    const frames = image.frames ?? 1;
    const frameSamples = image.width * image.height * format.channels;
    if (pixels.length < frameSamples * format.bytesPerSample * frames) throw new InputInvalidError('The pixel data is shorter than the image size.', { image });
    const grayscale = format.channels === 1;
    const source: FrameSource = {
      width: image.width,
      height: image.height,
      frames,
      grayscale,
      bitsStored: format.bytesPerSample * 8,
      pipeline: { rescaleSlope: 1, rescaleIntercept: 0, voiLutFunction: 'LINEAR', invert: false },
      decode: async (frame) => {
        const start = frame * frameSamples * format.bytesPerSample;
        const bytes = pixels.slice(start, start + frameSamples * format.bytesPerSample);
        // Record 16-bit samples are little-endian, like every browser's typed arrays.
        const samples: SampleArray = format.bytesPerSample === 2 ? new Uint16Array(bytes.buffer) : bytes;
        return { width: image.width, height: image.height, samplesPerPixel: format.channels, samples, photometric: grayscale ? 'MONOCHROME2' : 'RGB' };
      },
    };
    const viewer = new FrameViewer(source, { source: 'pixels', width: image.width, height: image.height, frames, grayscale, presets: [], units: '' });
    if (!grayscale) return viewer;
    const { range } = await viewer.frame(0);
    const full = { name: 'Full range', ...fullRangeWindow(range.min, range.max) };
    return viewer.withSummary({ ...viewer.summary, defaultWindow: full, presets: [full], valueRange: range });
  }

  private withSummary(summary: ViewerSummary): FrameViewer {
    const viewer = new FrameViewer(this.source, summary);
    for (const [k, v] of this.cache) viewer.remember(k, v);
    return viewer;
  }

  private async dicomSummary(file: DicomFile, info: DicomPixelInfo): Promise<ViewerSummary> {
    const dicom = {
      modality: info.modality,
      transferSyntax: info.transferSyntax,
      transferSyntaxName: info.transferSyntaxName,
      photometric: info.photometric,
      bitsStored: info.bitsStored,
      rescaleSlope: info.rescaleSlope,
      rescaleIntercept: info.rescaleIntercept,
      tags: displayTags(file),
    };
    const base = { ...this.summary, units: info.modality === 'CT' ? 'HU' : '', dicom };
    if (!this.source.grayscale) return base;
    const { range } = await this.frame(0);
    const presets: WindowSetting[] = windowPresets(info.windows, info.modality, range);
    return { ...base, presets, defaultWindow: presets[0], valueRange: range };
  }

  private remember(index: number, entry: CachedFrame): void {
    this.cache.set(index, entry);
    this.cachedBytes += entry.frame.samples.byteLength;
    for (const [key, old] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES || this.cache.size <= 1) break;
      this.cache.delete(key);
      this.cachedBytes -= old.frame.samples.byteLength;
    }
  }

  /** A decoded frame and its range in modality units (cached, most recently used last). */
  async frame(index: number): Promise<CachedFrame> {
    if (!Number.isInteger(index) || index < 0 || index >= this.source.frames) {
      throw new DicomPreviewError('frame-out-of-range', `There is no frame ${index + 1}; this image has ${this.source.frames}.`, { frame: index, frames: this.source.frames });
    }
    const hit = this.cache.get(index);
    if (hit) {
      this.cache.delete(index);
      this.cache.set(index, hit);
      return hit;
    }
    const frame = await this.source.decode(index);
    const stored = sampleRange(frame.samples, frame.samplesPerPixel);
    const { rescaleSlope: m, rescaleIntercept: b } = this.source.pipeline;
    const ends = [stored.min * m + b, stored.max * m + b];
    const entry = { frame, range: { min: Math.min(...ends), max: Math.max(...ends) }, stored };
    this.remember(index, entry);
    return entry;
  }

  async render(request: RenderRequest): Promise<{ frame: number; rgba: Uint8ClampedArray<ArrayBuffer>; window?: { center: number; width: number } }> {
    const index = request.frame ?? 0;
    const { frame, stored } = await this.frame(index);
    const pixels = frame.width * frame.height;
    const rgba = new Uint8ClampedArray(pixels * 4);
    if (!this.source.grayscale) {
      renderColor(frame.samples, pixels, frame.samplesPerPixel, this.source.bitsStored, frame.photometric, rgba);
      if (request.invert) for (let i = 0; i < rgba.length; i += 4) [rgba[i], rgba[i + 1], rgba[i + 2]] = [255 - rgba[i]!, 255 - rgba[i + 1]!, 255 - rgba[i + 2]!];
      return { frame: index, rgba };
    }
    const fallback = this.summary.defaultWindow ?? { center: 0, width: 1 };
    const center = Number.isFinite(request.center) ? request.center! : fallback.center;
    const width = Math.max(1, Number.isFinite(request.width) ? request.width! : fallback.width);
    const pipeline = request.invert ? { ...this.source.pipeline, invert: !this.source.pipeline.invert } : this.source.pipeline;
    renderGray(frame.samples, stored, { center, width }, pipeline, rgba);
    return { frame: index, rgba, window: { center, width } };
  }

  async frameValues(index: number): Promise<FrameValues> {
    const { frame } = await this.frame(index);
    const values = frame.samples instanceof Uint32Array ? Float64Array.from(frame.samples) : Int32Array.from(frame.samples);
    return { frame: index, width: frame.width, height: frame.height, samplesPerPixel: frame.samplesPerPixel, values };
  }

  async decodeAll(onProgress?: (done: number, total: number) => void): Promise<void> {
    const total = this.source.frames;
    onProgress?.(0, total);
    for (let i = 0; i < total; i++) {
      await this.frame(i);
      onProgress?.(i + 1, total);
    }
  }
}
