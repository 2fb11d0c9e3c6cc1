import type { SampleArray } from './dicom-frames.js';
import type { VoiLutFunction, WindowSetting } from './dicom-dataset.js';

/**
 * Greyscale display pipeline of PS3.3 C.11 / PS3.4 N.2: stored value → Modality LUT (rescale slope
 * and intercept, to modality units such as Hounsfield) → VOI LUT (window centre and width) →
 * Presentation (MONOCHROME1 inverted) → 8-bit grey. Pure, so the numbers are tested in Node.
 */
export interface GrayPipeline {
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly voiLutFunction: VoiLutFunction;
  /** MONOCHROME1: minimum value is white. */
  readonly invert: boolean;
}

export interface Window {
  readonly center: number;
  readonly width: number;
}

/** Output grey level 0…255 of one modality value, as PS3.3 C.11.2.1.2 defines each VOI function. */
export function voi(x: number, window: Window, fn: VoiLutFunction): number {
  const { center: c, width: w } = window;
  if (fn === 'SIGMOID') return 255 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    if (x <= c - w / 2) return 0;
    if (x > c + w / 2) return 255;
    return ((x - c) / w + 0.5) * 255;
  }
  // LINEAR (C.11.2.1.2.1); width ≥ 1, and a width of 1 is a threshold at c − 0.5.
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

/** Grey level for one stored value through the whole pipeline, rounded to an integer. */
export function displayLevel(stored: number, window: Window, pipeline: GrayPipeline): number {
  const y = Math.round(voi(stored * pipeline.rescaleSlope + pipeline.rescaleIntercept, window, pipeline.voiLutFunction));
  return pipeline.invert ? 255 - y : y;
}

export function sampleRange(samples: SampleArray, stride = 1, offset = 0): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = offset; i < samples.length; i += stride) {
    const v = samples[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

/** A window spanning the given modality-value range: every stored value distinguishable. */
export function fullRangeWindow(min: number, max: number): Window {
  return { center: (min + max) / 2 + 0.5, width: Math.max(1, max - min + 1) };
}

/**
 * Renders grey samples to RGBA8 (opaque). Integer data with a limited range goes through a lookup table
 * built once per call (at most 2^20 entries), so a 512×512 frame re-windows in a few milliseconds while
 * a finger drags the window.
 */
export function renderGray(samples: SampleArray, range: { min: number; max: number }, window: Window, pipeline: GrayPipeline, out: Uint8ClampedArray): void {
  const n = Math.min(samples.length, out.length / 4);
  const span = range.max - range.min + 1;
  if (span <= 1 << 20) {
    const lut = new Uint8Array(span);
    for (let v = 0; v < span; v++) lut[v] = displayLevel(v + range.min, window, pipeline);
    const min = range.min;
    for (let i = 0; i < n; i++) {
      const g = lut[samples[i]! - min]!;
      const o = i * 4;
      out[o] = g;
      out[o + 1] = g;
      out[o + 2] = g;
      out[o + 3] = 255;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = displayLevel(samples[i]!, window, pipeline);
    const o = i * 4;
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
}

/**
 * Colour samples to RGBA8: scaled from Bits Stored to 8 bits, YBR_FULL converted to RGB with the
 * PS3.3 C.7.6.3.1.2 equations. Windowing does not apply to colour images.
 */
export function renderColor(samples: SampleArray, pixels: number, channels: number, bitsStored: number, photometric: string, out: Uint8ClampedArray): void {
  const scale = bitsStored > 8 ? 255 / (2 ** bitsStored - 1) : 1;
  const ybr = photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422';
  for (let i = 0; i < pixels; i++) {
    const s = i * channels;
    let r = samples[s]! * scale;
    let g = samples[s + 1]! * scale;
    let b = samples[s + 2]! * scale;
    if (ybr) {
      const [y, cb, cr] = [r, g - 128, b - 128];
      r = y + 1.402 * cr;
      g = y - 0.344136 * cb - 0.714136 * cr;
      b = y + 1.772 * cb;
    }
    const o = i * 4;
    out[o] = Math.round(r);
    out[o + 1] = Math.round(g);
    out[o + 2] = Math.round(b);
    out[o + 3] = channels === 4 ? samples[s + 3]! * scale : 255;
  }
}

/**
 * Window presets for CT, in Hounsfield units (centre/width as commonly taught, e.g. Radiopaedia's
 * "windowing (CT)"). Offered after the file's own windows and the full range.
 */
export const CT_WINDOW_PRESETS: readonly WindowSetting[] = [
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Subdural', center: 75, width: 215 },
  { name: 'Stroke', center: 32, width: 8 },
  { name: 'Soft tissue', center: 50, width: 400 },
  { name: 'Mediastinum', center: 50, width: 350 },
  { name: 'Liver', center: 30, width: 150 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Bone', center: 400, width: 1800 },
];

/** The presets a viewer offers: the file's windows, then "Full range", then modality presets. */
export function windowPresets(fileWindows: readonly WindowSetting[], modality: string, range: { min: number; max: number }): WindowSetting[] {
  const full = fullRangeWindow(range.min, range.max);
  return [...fileWindows, { name: 'Full range', ...full }, ...(modality === 'CT' ? CT_WINDOW_PRESETS : [])];
}
