import type { EngineProgress, ProgressCallback } from './engine-api.js';

/**
 * Progress crosses a thread boundary as a message; sending one per 512 KiB chunk would flood the main
 * thread. This passes the first and last report of each phase and at most one per `intervalMs` between.
 */
export function throttleProgress(callback: ProgressCallback | undefined, intervalMs = 50): ProgressCallback {
  let last = 0;
  let lastPhase = '';
  return (progress: EngineProgress) => {
    if (!callback) return;
    const now = performance.now();
    if (progress.phase !== lastPhase || progress.done >= progress.total || now - last >= intervalMs) {
      last = now;
      lastPhase = progress.phase;
      callback(progress);
    }
  };
}
