/**
 * A worker_threads entry: seals the files the pool sends (`protectFile`), keeps each record's objects, and
 * stores them when told to (after the main thread has journalled the record), in a folder or through presigned
 * URLs, or hands them over. Their buffers are then reused for the next record (object-buffers.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EhrVaultError } from '../core/errors.js';
import { useArgon2At } from './native-argon2.js';
import { ObjectBuffers } from './object-buffers.js';
import { protectFile, type ProtectedFile } from './protect-file.js';
import { deliverToSink } from './storage.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('protect-worker runs in a worker thread.');

useArgon2At((workerData as { argon2?: string } | null)?.argon2);
const buffers = new ObjectBuffers();
/** Sealed records not yet stored, by the id of the task that sealed them. */
const held = new Map<number, ProtectedFile>();

function fail(id: number, error: unknown): void {
  const e = error instanceof EhrVaultError ? { code: error.code as string, message: error.message, hint: error.hint, details: error.details } : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: 'Please report this.', details: {} };
  port!.postMessage({ id, error: e } satisfies WorkerReply);
}

function take(record: number): ProtectedFile {
  const result = held.get(record);
  if (!result) throw new Error(`protect-worker holds no record ${record}.`);
  held.delete(record);
  return result;
}

port.on('message', (message: WorkerRequest) => {
  const { id } = message;
  switch (message.op) {
    case 'ping': // answered as soon as this module has loaded (ProtectPool.ready)
      port.postMessage({ id } satisfies WorkerReply);
      return;
    case 'seal':
      protectFile(message.task, buffers).then((result) => {
        held.set(id, result);
        const { objects, ...rest } = result;
        port.postMessage({ id, sealed: { ...rest, sizes: objects.map((o) => o.length) } } satisfies WorkerReply);
      }, (error: unknown) => fail(id, error));
      return;
    case 'deliver': {
      let result: ProtectedFile;
      try {
        result = take(message.record);
      } catch (error) {
        fail(id, error);
        return;
      }
      deliverToSink(message.sink, result.names.map((name, j) => ({ name, bytes: result.objects[j]! })))
        .then(() => port.postMessage({ id } satisfies WorkerReply), (error: unknown) => fail(id, error))
        .finally(() => buffers.give(result.objects));
      return;
    }
    case 'take': {
      try {
        const { objects } = take(message.record);
        port.postMessage({ id, objects } satisfies WorkerReply, objects.map((o) => o.buffer as ArrayBuffer));
      } catch (error) {
        fail(id, error);
      }
      return;
    }
    case 'drop':
      if (held.has(message.record)) buffers.give(take(message.record).objects);
      return;
  }
});
