/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { installErrorTransfer } from './comlink-errors.js';
import { closeScratchWriters } from './scratch-file.js';
import { runSegmentJob, type SegmentJob } from './segment-jobs.js';

installErrorTransfer();

/** A pool worker (started by the engine worker, see segment-pool.ts): runs segment jobs one at a time. */
const api = {
  run(job: SegmentJob): Promise<Blob | undefined> {
    return runSegmentJob(job);
  },
  /** Flushes and closes this worker's scratch-file writers, before the file is read. */
  finish(): Promise<void> {
    return closeScratchWriters();
  },
};

export type SegmentWorkerApi = typeof api;
Comlink.expose(api);
