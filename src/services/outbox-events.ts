import type { OutboxOp, StoredError, SyncState } from '../storage/schema.js';

/**
 * `stopped`: not running; `waiting-for-lock`: another tab runs the outbox (this one takes over when it
 * closes); `idle`: nothing due; `uploading`; `offline`: waiting for the network; `not-configured`:
 * waiting for a person to set the cloud service (Settings).
 */
export type RunnerState = 'stopped' | 'waiting-for-lock' | 'idle' | 'uploading' | 'offline' | 'not-configured';

/** Event details of OutboxRunner, by event type. */
export interface OutboxEventMap {
  state: { readonly state: RunnerState };
  /** A fragment of a record reached the cloud: k of n. */
  progress: { readonly recordId: string; readonly uploaded: number; readonly total: number; readonly state: SyncState };
  /** Bytes of one fragment's upload (frequent; throttle in the UI). */
  'fragment-progress': { readonly recordId: string; readonly position: number; readonly loaded: number; readonly total: number };
  'record-synced': { readonly recordId: string };
  /** A transfer failed; `willRetry` false means it waits for a person (see error.hint). */
  failed: { readonly recordId: string; readonly position: number; readonly op: OutboxOp; readonly error: StoredError; readonly willRetry: boolean };
  /** The runner itself hit an unexpected problem (e.g. storage); it keeps going after a pause. */
  'runner-error': { readonly error: StoredError };
}

export type OutboxEventType = keyof OutboxEventMap;
