import type { RecordMetadata } from '../core/metadata.js';
import type { EngineProgress } from '../workers/engine-api.js';

/** What the UI shows for one record. The name is known only while the vault is unlocked. */
export interface RecordSummary {
  readonly recordId: string;
  readonly name: string | null;
  readonly kind: 'image' | 'file' | null;
  readonly mime: string | null;
  readonly byteLength: number | null;
  readonly createdAt: number;
  readonly fragmentCount: number;
  readonly totalBytes: number;
  readonly sync: { readonly state: 'local' | 'uploading' | 'synced' | 'failed' | 'remote' | 'deleting'; readonly uploaded: number; readonly error: { readonly code: string; readonly message: string; readonly hint: string } | null };
  readonly hasKey: boolean;
}

export interface ProtectOutcome {
  readonly recordId: string;
  readonly shareText: string;
  readonly metadata: RecordMetadata;
  readonly fragments: readonly { readonly indexChar: string; readonly size: number }[];
  readonly noise?: ImageBitmap | undefined;
}

export type OpenOutcome =
  | { readonly kind: 'file'; readonly metadata: RecordMetadata; readonly blob: Blob }
  | { readonly kind: 'image'; readonly metadata: RecordMetadata; readonly bitmap: ImageBitmap; readonly pngBlob?: () => Promise<Blob> };

export interface LongCall {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: EngineProgress | { phase: 'download'; done: number; total: number }) => void) | undefined;
}

export interface StorageReport {
  readonly usage: number | null;
  readonly quota: number | null;
  readonly persisted: boolean | null;
}
