import type { BatchKdf } from '../core/batch-kdf.js';
import type { ImageInfo, RecordMetadata } from '../core/metadata.js';
import type { EngineProgress } from '../workers/engine-api.js';

/** What the UI shows for one record. The name is known only while the vault is unlocked. */
export interface RecordSummary {
  readonly recordId: string;
  readonly name: string | null;
  readonly kind: 'image' | 'file' | null;
  readonly mime: string | null;
  /** The content's true size (a file's original bytes, an image's source file); null while locked. */
  readonly byteLength: number | null;
  /** An image record's true pixel size and format; null for files and while locked. */
  readonly image: ImageInfo | null;
  readonly createdAt: number;
  readonly fragmentCount: number;
  /** p: the record survives the loss of this many of its objects (FORMAT.md §4.4). */
  readonly parityCount: number;
  /** The true upload size: every sealed object of the record. */
  readonly totalBytes: number;
  readonly sync: { readonly state: 'local' | 'uploading' | 'synced' | 'failed' | 'remote' | 'deleting'; readonly uploaded: number; readonly error: { readonly code: string; readonly message: string; readonly hint: string } | null };
  readonly hasKey: boolean;
  /** The last check of its objects in the cloud (issue 17); undefined until checked. */
  readonly health?: { readonly state: 'healthy' | 'degraded' | 'unrecoverable' | 'repairing'; readonly checkedAt: number; readonly missing: readonly number[]; readonly damaged: readonly number[]; readonly unreachable: readonly number[] } | undefined;
  /** Opened from a share link: read-only here (open, forget; never a cloud delete or a re-share). */
  readonly sharedWithMe: boolean;
}

export interface ProtectOutcome {
  readonly recordId: string;
  readonly shareText: string;
  readonly metadata: RecordMetadata;
  /** The sealed objects by slot; their index characters are sealed inside them and never shown. */
  readonly fragments: readonly { readonly slot: number; readonly size: number }[];
  /** p of the n + p objects are parity: any n of them open the record. */
  readonly parityCount: number;
  readonly noise?: ImageBitmap | undefined;
}

/** What a scan preview can window: an opened DICOM file, or grey/16-bit pixels of an image record. */
export type PreviewSource =
  | { readonly kind: 'dicom'; readonly blob: Blob; readonly name: string }
  | { readonly kind: 'pixels'; readonly pixels: Uint8Array; readonly image: ImageInfo };

export type OpenOutcome =
  | { readonly kind: 'file'; readonly metadata: RecordMetadata; readonly blob: Blob; readonly preview?: PreviewSource | undefined }
  | { readonly kind: 'image'; readonly metadata: RecordMetadata; readonly bitmap: ImageBitmap; readonly pngBlob?: () => Promise<Blob>; readonly preview?: PreviewSource | undefined };

/** X and salt shared by the records of one protect batch (FORMAT.md §3); opaque to the UI. */
export type ProtectBatch = BatchKdf;

export interface LongCall {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: EngineProgress | { phase: 'download'; done: number; total: number }) => void) | undefined;
}

export interface StorageReport {
  readonly usage: number | null;
  readonly quota: number | null;
  readonly persisted: boolean | null;
}

/** Whether a typed sequence key is a record's, told before Open (vault `warmOpen`). */
export type KeyVerdict = { readonly matches: true } | { readonly matches: false; readonly message: string };
