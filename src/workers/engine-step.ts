/**
 * What the engine worker is doing right now, in a few words, for the engine client when a call stops
 * reporting progress (services/engine-client.ts): an intermittent stall in stock Firefox on CI happened
 * between two progress reports, with the worker then too stuck to answer a question. So each step is also
 * posted, as it begins, on a BroadcastChannel the page listens to (the last steps arrive even from a worker
 * that then blocks). Diagnostics only: nothing is decided on it, and a step never holds a name, a key or
 * any content.
 */
export const ENGINE_STEP_CHANNEL = 'ehr-vault-engine-step';
/** The step while a pool worker is constructed (segment-pool.ts); the engine client watches for it. */
export const POOL_START_STEP = 'pool: starting a worker';

let current = 'idle';
let since = Date.now();
let channel: BroadcastChannel | undefined;

export function engineStep(step: string): void {
  current = step;
  since = Date.now();
  try {
    if (!channel && typeof BroadcastChannel !== 'undefined') {
      channel = new BroadcastChannel(ENGINE_STEP_CHANNEL);
      // Node (the pipeline tests): an open channel would keep the process alive.
      (channel as { unref?: () => void }).unref?.();
    }
    channel?.postMessage({ step, at: since });
  } catch {
    /* diagnostics never fail a call */
  }
}

export function currentEngineStep(): { readonly step: string; readonly sinceMs: number } {
  return { step: current, sinceMs: Date.now() - since };
}
