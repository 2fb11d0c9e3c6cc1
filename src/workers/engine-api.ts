import type { RecordMetadata } from '../core/metadata.js';

/** Which step a long operation is in, for progress bars that say what is happening. */
export type EnginePhase = 'decode' | 'compress' | 'encrypt' | 'verify' | 'decrypt' | 'decompress';

export interface EngineProgress {
  readonly phase: EnginePhase;
  readonly done: number;
  readonly total: number;
}

export type ProgressCallback = (progress: EngineProgress) => void;

export interface ProtectRequest {
  readonly source: Blob;
  readonly name: string;
  readonly mime: string;
  /** `image`: decode to pixels and encrypt those (the paper's path); `file`: encrypt the original bytes. */
  readonly mode: 'image' | 'file';
  readonly sequenceKey: string;
  /** 16 bytes; transferred to the worker, not copied. */
  readonly recordKey: Uint8Array;
  readonly chunkSize?: number | undefined;
  /** Image mode: raw-DEFLATE the pixel matrix before encryption (see bench: worth it by default). */
  readonly compress?: boolean | undefined;
  /** Image mode: also return the cipher-noise picture (paper Figure 5.1). */
  readonly noisePreview?: boolean | undefined;
}

export interface ProtectedFragment {
  readonly indexChar: string;
  readonly blob: Blob;
}

export interface ProtectResult {
  readonly metadata: RecordMetadata;
  readonly fragments: readonly ProtectedFragment[];
  readonly envelopeLength: number;
  readonly noise?: ImageBitmap | undefined;
}

export interface OpenRequest {
  /** Fragments in any order. */
  readonly fragments: readonly Blob[];
  readonly sequenceKey: string;
  readonly recordKey: Uint8Array;
  /** Image records: also return an ImageBitmap built in the worker, so showing it costs the page nothing. */
  readonly display?: boolean | undefined;
}

export type OpenResult =
  | { readonly kind: 'file'; readonly metadata: RecordMetadata; readonly blob: Blob }
  | { readonly kind: 'image'; readonly metadata: RecordMetadata; readonly pixels: Uint8Array<ArrayBuffer>; readonly bitmap?: ImageBitmap | undefined };

export interface DecodeResult {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array<ArrayBuffer>;
}

/** The typed surface of the engine worker (reached through comlink). */
export interface EngineApi {
  protect(request: ProtectRequest, onProgress?: ProgressCallback): Promise<ProtectResult>;
  open(request: OpenRequest, onProgress?: ProgressCallback): Promise<OpenResult>;
  /** The same decode `protect` uses, so callers can compare pixels with what was protected. */
  decode(source: Blob): Promise<DecodeResult>;
}
