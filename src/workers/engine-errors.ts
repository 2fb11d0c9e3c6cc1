import { EhrVaultError } from '../core/errors.js';

/** No progress for this long: the pool (no segment finished) or an engine call (no report) is declared stalled. */
export const STALL_MS = 120_000;

/**
 * The browser stopped answering a worker's read, crypto or write for a long time. Seen once while tuning
 * (two segments in flight per worker, reading with BYOB readers); never in the shipped configuration, but a
 * person should get a message and their file back, never an endless progress bar.
 */
export class EngineStalledError extends EhrVaultError<'ENGINE_STALLED'> {
  /**
   * `where`: what was under way when it stopped, for diagnosis (the engine client's last report of the call,
   * or the segment pool's lanes); it goes into `details`, not into what the user reads.
   */
  constructor(idleMs: number, failure?: string, where?: Readonly<Record<string, unknown>>) {
    super(
      'ENGINE_STALLED',
      failure ? `The browser stopped the worker that was working on the file (${failure}).` : `The browser stopped answering for ${Math.round(idleMs / 1000)} s while working on the file.`,
      'Nothing was saved. Try again; if it happens again, restart the browser.',
      { idleMs, ...(failure ? { failure } : {}), ...where },
    );
  }
}
