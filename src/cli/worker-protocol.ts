import type { ProtectedFile, ProtectTask } from './protect-file.js';
import type { WorkerSink } from './storage.js';

/** A sealed record as the worker reports it: everything but the objects' bytes, which it keeps. */
export type SealedReport = Omit<ProtectedFile, 'objects'> & { readonly sizes: number[] };

/** Messages from the pool to a protect worker; `record` is the id of the `seal` request that made it. */
export type WorkerRequest =
  | { readonly id: number; readonly op: 'ping' }
  | { readonly id: number; readonly op: 'seal'; readonly task: ProtectTask }
  | { readonly id: number; readonly op: 'deliver'; readonly record: number; readonly sink: WorkerSink }
  | { readonly id: number; readonly op: 'take'; readonly record: number }
  | { readonly id: number; readonly op: 'drop'; readonly record: number };

/** A worker's answer to request `id`: nothing more (ping, deliver), a sealed record, the objects, or an error. */
export interface WorkerReply {
  readonly id: number;
  readonly sealed?: SealedReport;
  readonly objects?: Uint8Array[];
  readonly error?: { code: string; message: string; hint: string; details: Record<string, unknown> };
}
