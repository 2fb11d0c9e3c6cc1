/** A worker_threads entry: runs `protectFile` for each task the pool sends, off the main thread. */
import { parentPort } from 'node:worker_threads';
import { EhrVaultError } from '../core/errors.js';
import { protectFile, type ProtectTask } from './protect-file.js';

const port = parentPort;
if (!port) throw new Error('protect-worker runs in a worker thread.');

port.on('message', (message: { id: number; task?: ProtectTask; ping?: true }) => {
  // A ping (ProtectPool.ready) is answered as soon as this module has loaded.
  if (message.ping || !message.task) {
    port.postMessage({ id: message.id });
    return;
  }
  protectFile(message.task).then(
    (result) => {
      const transfer = result.objects.map((o) => o.buffer as ArrayBuffer);
      port.postMessage({ id: message.id, result }, transfer);
    },
    (error: unknown) => {
      const e = error instanceof EhrVaultError ? { code: error.code as string, message: error.message, hint: error.hint, details: error.details } : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'Please report this.', details: {} };
      port.postMessage({ id: message.id, error: e });
    },
  );
});
