import { EhrVaultError } from '../core/errors.js';

/**
 * The browser stopped answering a worker's read, crypto or write for a long time. Seen once while tuning
 * (two segments in flight per worker, reading with BYOB readers); never in the shipped configuration, but a
 * person should get a message and their file back, never an endless progress bar.
 */
export class EngineStalledError extends EhrVaultError<'ENGINE_STALLED'> {
  constructor(idleMs: number) {
    super('ENGINE_STALLED', `The browser stopped answering for ${Math.round(idleMs / 1000)} s while working on the file.`, 'Nothing was saved. Try again; if it happens again, restart the browser.', { idleMs });
  }
}
