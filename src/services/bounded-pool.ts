import { throwIfAborted } from '../core/progress.js';

/**
 * Runs `task(0 … count−1)` with at most `limit` running at once. Workers pull the next index as they
 * finish, so one slow item never holds back a whole "wave". Stops starting new tasks once `signal`
 * aborts; a task's own rejection is the caller's to handle (tasks here settle, they don't throw).
 */
export async function runBounded(count: number, limit: number, task: (index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      throwIfAborted(signal);
      const index = next++;
      await task(index);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker);
  await Promise.all(workers);
}

/** An AbortController that also aborts when `parent` does (AbortSignal.any is not everywhere yet). */
export function childController(parent: AbortSignal | undefined): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  if (!parent) return { controller, dispose: () => {} };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { controller, dispose: () => {} };
  }
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { controller, dispose: () => parent.removeEventListener('abort', onAbort) };
}
