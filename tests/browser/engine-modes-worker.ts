/// <reference lib="webworker" />
/**
 * Test-only Worker: reports which engine-specific paths the app's I/O modules take in a Worker of this
 * browser (the range reader, the scratch-file writers), by running them.
 */
import { chooseSink, isRelaySink } from '../../src/workers/output-sink.js';
import { rangeReadMode, readRange } from '../../src/workers/read-range.js';

self.onmessage = async (event: MessageEvent<{ scratch: string; nested?: boolean }>) => {
  if (event.data.nested) {
    // The same report from a Worker started by this one, as the engine worker starts the pool.
    const nested = new Worker(new URL('./engine-modes-worker.ts', import.meta.url), { type: 'module' });
    nested.onmessage = (answer) => {
      self.postMessage(answer.data);
      nested.terminate();
    };
    nested.onerror = (error) => self.postMessage({ error: `nested worker: ${error.message}` });
    nested.postMessage({ scratch: event.data.scratch });
    return;
  }
  try {
    const bytes = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const read = await readRange(new Blob([bytes]), 10, 90_010);
    const readOk = read.length === 90_000 && read.every((b, i) => b === ((i + 10) & 0xff));
    const sink = await chooseSink({ sink: 'disk', scratch: event.data.scratch }, 1024 * 1024, 0);
    self.postMessage({ read: rangeReadMode(), readOk, sink: sink.kind === 'memory' ? 'memory' : isRelaySink(sink) ? 'disk-relay' : 'disk-shared' });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};
