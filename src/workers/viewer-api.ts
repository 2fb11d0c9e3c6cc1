import type { ImageInfo } from '../core/metadata.js';
import type { DicomDisplayTags, WindowSetting } from './dicom/dicom-dataset.js';

export type { DicomDisplayTags, WindowSetting } from './dicom/dicom-dataset.js';

/** What a viewer shows about its image before any frame is drawn. */
export interface ViewerSummary {
  readonly source: 'dicom' | 'pixels';
  readonly width: number;
  readonly height: number;
  /** Frame count for the frame slider (1 for a single image). */
  readonly frames: number;
  /** Greyscale images can be windowed; colour images are drawn as they are. */
  readonly grayscale: boolean;
  /** The window drawn when none is asked for: the file's first window, else the full range. */
  readonly defaultWindow?: WindowSetting | undefined;
  /** File windows, "Full range" and (CT) anatomical presets, in modality units. */
  readonly presets: readonly WindowSetting[];
  /** "HU" for CT, else "" (modality units after rescale). */
  readonly units: string;
  /** Lowest and highest modality value of the first frame, for a window slider's bounds. */
  readonly valueRange?: { readonly min: number; readonly max: number } | undefined;
  readonly dicom?: {
    readonly modality: string;
    readonly transferSyntax: string;
    readonly transferSyntaxName: string;
    readonly photometric: string;
    readonly bitsStored: number;
    readonly rescaleSlope: number;
    readonly rescaleIntercept: number;
    /** Shown on the device only; never sent anywhere, never stored outside the encrypted record. */
    readonly tags: DicomDisplayTags;
  } | undefined;
}

export interface RenderRequest {
  /** 0-based frame index. */
  readonly frame?: number | undefined;
  /** Modality units (e.g. HU); ignored for colour images. */
  readonly center?: number | undefined;
  readonly width?: number | undefined;
  /** Swap black and white on top of the image's own MONOCHROME1/2 presentation. */
  readonly invert?: boolean | undefined;
}

export interface RenderedFrame {
  readonly frame: number;
  readonly bitmap: ImageBitmap;
  /** The window actually applied (after defaults and the width ≥ 1 rule); absent for colour. */
  readonly window?: { readonly center: number; readonly width: number } | undefined;
}

/** Stored values of one frame, before rescale: what DICOM toolkits report as the pixel array. */
export interface FrameValues {
  readonly frame: number;
  readonly width: number;
  readonly height: number;
  readonly samplesPerPixel: number;
  readonly values: Int32Array | Float64Array;
}

/** A long-lived worker holding one decoded image, so re-windowing and frame scrolling stay fast. */
export interface ViewerApi {
  openDicom(source: Blob, name?: string): Promise<ViewerSummary>;
  openPixels(pixels: Uint8Array, image: ImageInfo): Promise<ViewerSummary>;
  render(request: RenderRequest): Promise<RenderedFrame>;
  frameValues(frame: number): Promise<FrameValues>;
  /** Decodes every frame ahead of scrolling (multi-frame studies), reporting progress per frame. */
  decodeAll(onProgress?: (done: number, total: number) => void): Promise<void>;
}
