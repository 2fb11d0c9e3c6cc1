import { AbortedError } from './errors.js';

/** Bytes done out of bytes total; `total` never changes during one operation. */
export interface Progress {
  readonly done: number;
  readonly total: number;
}

export interface LongOperationOptions {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: Progress) => void) | undefined;
}

/** Throws the core's typed error instead of the platform's DOMException, so callers switch on one `code`. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}
