import type { BatchKdf } from '../core/batch-kdf.js';
import type { KdfParams } from '../core/kdf.js';
import type { ImageInfo, PixelFormat, RecordMetadata } from '../core/metadata.js';
import type { OriginalBytesReason, SourceInspection } from './decode-image.js';
import type { SinkRequest } from './output-sink.js';
import type { ViewerSummary } from './viewer-api.js';

export type { OriginalBytesReason, SourceInspection } from './decode-image.js';
export type { SniffedType } from './decoders/sniff.js';

/** Which step a long operation is in, for progress bars that say what is happening. */
/** `unlock`: the memory-hard step that turns the sequence key into keys (Argon2id, ~0.3 s). */
export type EnginePhase = 'decode' | 'compress' | 'unlock' | 'encrypt' | 'verify' | 'decrypt' | 'decompress' | 'encode' | 'parity';

export interface EngineProgress {
  readonly phase: EnginePhase;
  readonly done: number;
  readonly total: number;
}

export type ProgressCallback = (progress: EngineProgress) => void;

export interface ProtectRequest extends SinkRequest {
  readonly source: Blob;
  readonly name: string;
  readonly mime: string;
  /**
   * `image`: decode to pixels and encrypt those (the paper's path), or fail with a typed error;
   * `file`: encrypt the original bytes; `auto`: pixels for still images, original bytes for DICOM,
   * animations, truncated JPEGs, TIFF and anything else (see `ProtectResult.stored`, FORMAT.md §11).
   */
  readonly mode: 'image' | 'file' | 'auto';
  readonly sequenceKey: string;
  /** 16 bytes; transferred to the worker, not copied. */
  readonly recordKey: Uint8Array;
  /** 22 base64url characters: the record locator (FORMAT.md §2.2). */
  readonly recordId: string;
  readonly chunkSize?: number | undefined;
  /** Argon2id parameters; the format's default (FORMAT.md §3) when absent. Ignored with `batch`. */
  readonly kdf?: KdfParams | undefined;
  /**
   * X and salt of a protect batch (`EngineApi.stretchBatch`): several files picked at once pay Argon2id once
   * (FORMAT.md §3). Absent: this record is a batch of its own.
   */
  readonly batch?: BatchKdf | undefined;
  /** Compress before encryption: pixels by PNG row filters + DEFLATE (FORMAT.md §6.2), files of one segment when they compress (§6.3). Default true (measured: bench/codecs.ts). */
  readonly compress?: boolean | undefined;
  /** Image mode: also return the cipher-noise picture (paper Figure 5.1). */
  readonly noisePreview?: boolean | undefined;
  /**
   * Parity objects p (FORMAT.md §4.4): any n of the n + p objects open the record. Default
   * `DEFAULT_PARITY` (2; measured in bench/README.md, parity section). 0 = the paper's n objects only.
   */
  readonly parity?: number | undefined;
  /**
   * Largest p × B (bytes) for which parity rows are built in memory while the envelope is produced; larger
   * records read their data bodies back afterwards. Default 96 MiB; tests lower it to reach the other path.
   */
  readonly parityInMemoryMax?: number | undefined;
}

/** One sealed object (FORMAT.md §4): what is stored in the cloud under the name of its slot. */
export interface ProtectedObject {
  readonly slot: number;
  readonly blob: Blob;
  /** Base64 SHA-256 of `blob`, computed while it was produced (fragment-hashes.ts). */
  readonly sha256?: string | undefined;
}

/** How the engine stored a record, and why (for `auto`, what it decided). */
export interface StoredAs {
  readonly as: 'pixels' | 'original-bytes';
  /** Content type by the file's bytes. */
  readonly type: SourceInspection['type'];
  readonly reason?: OriginalBytesReason | undefined;
}

export interface ProtectResult {
  readonly metadata: RecordMetadata;
  readonly stored: StoredAs;
  readonly objects: readonly ProtectedObject[];
  readonly envelopeLength: number;
  readonly noise?: ImageBitmap | undefined;
  /** Set when the fragments are slices of this scratch file: remove it once they are stored elsewhere. */
  readonly scratch?: string | undefined;
}

export interface OpenRequest extends SinkRequest {
  /** A record's objects in any order. */
  readonly objects: readonly Blob[];
  readonly sequenceKey: string;
  readonly recordKey: Uint8Array;
  readonly recordId: string;
  /** Image records: also return an ImageBitmap built in the worker, so showing it costs the page nothing. */
  readonly display?: boolean | undefined;
  /** Image records: also return the pixels as a PNG of the stored bit depth (frame 0), for "Save". */
  readonly png?: boolean | undefined;
  /**
   * A protect batch still held in memory (`EngineApi.stretchBatch`): a record of that batch opens without
   * running Argon2id again. Any other record ignores it.
   */
  readonly batch?: BatchKdf | undefined;
}

export type OpenResult =
  | {
      readonly kind: 'file';
      readonly metadata: RecordMetadata;
      /** The original bytes, exactly as protected: "Save" gives back this Blob. */
      readonly blob: Blob;
      /** True when the bytes are DICOM (by content): a FrameViewerClient can preview them. */
      readonly dicom?: boolean | undefined;
      /** Set when `blob` is this scratch file: it stays readable until the file is removed. */
      readonly scratch?: string | undefined;
    }
  | {
      readonly kind: 'image';
      readonly metadata: RecordMetadata;
      readonly pixels: Uint8Array<ArrayBuffer>;
      /** For display only: 16-bit and grey formats are mapped to RGBA8 (FORMAT.md §6.3). */
      readonly bitmap?: ImageBitmap | undefined;
      /** With `png: true`: the pixels as a lossless PNG of the stored format; decoding it gives `pixels` back. */
      readonly png?: Blob | undefined;
    };

export interface DecodeResult {
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: PixelFormat;
  readonly pixels: Uint8Array<ArrayBuffer>;
}

export interface ExportPngRequest {
  readonly pixels: Uint8Array;
  readonly image: ImageInfo;
  /** Frame of a multi-frame record (0-based; PNG holds one frame). */
  readonly frame?: number | undefined;
}

/** The typed surface of the engine worker (reached through comlink). */
export interface EngineApi {
  protect(request: ProtectRequest, onProgress?: ProgressCallback): Promise<ProtectResult>;
  /** The one Argon2id of a protect batch (random salt): pass the result as `ProtectRequest.batch`. */
  /** `salt` given: the X a record of that batch opens with (stretched ahead of Open, vault.ts `warmOpen`). */
  stretchBatch(sequenceKey: string, kdf?: KdfParams, salt?: Uint8Array): Promise<BatchKdf>;
  open(request: OpenRequest, onProgress?: ProgressCallback): Promise<OpenResult>;
  /** The same decode `protect` uses, so callers can compare pixels with what was protected. */
  decode(source: Blob): Promise<DecodeResult>;
  /** What `protect` with `mode: 'auto'` would do with this source, without protecting it. */
  inspect(source: Blob, name: string, mime?: string): Promise<SourceInspection>;
  /** Encodes record pixels as a PNG of the same bit depth, without a canvas (exact round trip). */
  exportPng(request: ExportPngRequest, onProgress?: ProgressCallback): Promise<Blob>;
  /**
   * Parses an opened DICOM file: frame count, windows, presets and the display tags (patient name and
   * ID, study date, modality, description). For drawing, use FrameViewerClient (a long-lived worker).
   */
  dicomSummary(source: Blob, name?: string): Promise<ViewerSummary>;
  /** The step the worker is at (engine-step.ts): asked by the engine client when a call stops reporting. */
  whereNow(): Promise<{ readonly step: string; readonly sinceMs: number }>;
}
