/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { installErrorTransfer } from './comlink-errors.js';
import { isRelaySink } from './output-sink.js';
import { closeScratchWriters, relayWrites, transferables, wholeBuffers, type RelayedWrite } from './scratch-file.js';
import { runSegmentJob, type SegmentJob, type SegmentOutput } from './segment-jobs.js';

installErrorTransfer();

/** A pool worker (started by the engine worker, see segment-pool.ts): runs segment jobs one at a time. */
const api = {
  async run(job: SegmentJob): Promise<SegmentOutput | { relayed: RelayedWrite[]; digests?: [number, string][] | undefined }> {
    if (!isRelaySink(job.sink)) {
      const result = await runSegmentJob(job);
      // The Blob holds its own copy, and a sync-handle write is done: the output buffers can move, not be copied.
      return result.output ? Comlink.transfer(result, wholeBuffers(result.output)) : result;
    }
    // One writer per file here: the output goes to the engine worker, which writes it (scratch-file.ts)
    // and, when asked to keep the output, hashes the same bytes.
    let digests: [number, string][] | undefined;
    const relayed = await relayWrites(async () => ({ digests } = await runSegmentJob(job)));
    return Comlink.transfer({ relayed, digests }, transferables(relayed));
  },
  /** Flushes and closes this worker's scratch-file writers, before the file is read. */
  finish(): Promise<void> {
    return closeScratchWriters();
  },
};

export type SegmentWorkerApi = typeof api;
Comlink.expose(api);
