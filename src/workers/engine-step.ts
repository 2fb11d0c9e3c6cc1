/**
 * What the engine worker is doing right now, in a few words, for the engine client to ask when a call stops
 * reporting progress (services/engine-client.ts): an intermittent stall in stock Firefox on CI happened
 * between two progress reports, and only the worker can say at which step. Diagnostics only: nothing is
 * decided on it, and it never holds a name, a key or any content.
 */
let current = 'idle';
let since = Date.now();

export function engineStep(step: string): void {
  current = step;
  since = Date.now();
}

export function currentEngineStep(): { readonly step: string; readonly sinceMs: number } {
  return { step: current, sinceMs: Date.now() - since };
}
