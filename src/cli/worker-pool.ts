import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { EhrVaultError } from '../core/errors.js';
import { argon2Location } from './native-argon2.js';
import { protectFile, type ProtectedFile, type ProtectTask } from './protect-file.js';
import type { ObjectStore } from './storage.js';
import type { SealedReport, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { protectWorkerUrl } from './worker-source.js';

/**
 * V8 sizes a new isolate's old generation at ~24 MiB and starts a major GC whenever its limit is reached;
 * a protect worker's node:crypto outputs (two fresh buffers per MiB sealed, young garbage that scavenges
 * free anyway) pushed it there every 16 MiB: 12–13 mark-compacts per worker per 384 MiB, ~27 % of a
 * worker's CPU (perf, bench:cli). Starting the workers' heaps at 64 MiB leaves one per run; peak RSS did
 * not change (the buffers are freed by scavenges either way). V8 reads the flag when an isolate is made, so
 * it is set once, before the first worker; the main thread's own heap is already made and stays as it is.
 */
let heapsSized = false;
function startLargerHeaps(): void {
  if (heapsSized) return;
  heapsSized = true;
  setFlagsFromString('--initial-old-space-size=64');
}

/** An error that crossed the thread boundary, keeping its code, hint and details. */
export class WorkerTaskError extends EhrVaultError<string> {}

/** Distributes Omit over the request union, so each variant keeps its own members. */
type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (error: unknown) => void;
}

/**
 * A record sealed by the pool. Its objects stay in the thread that sealed them until `deliver` stores them
 * there (a worker writes or uploads them itself when the store gives it a sink: the bytes never cross
 * threads), `take` brings them here, or `release` gives them up. Exactly one of the three, once.
 */
export interface SealedRecord extends SealedReport {
  deliver(store: ObjectStore): Promise<void>;
  take(): Promise<Uint8Array[]>;
  release(): void;
}

function sha256Of(report: SealedReport): { name: string; size: number; sha256: string }[] {
  return report.names.map((name, j) => ({ name, size: report.sizes[j]!, sha256: report.sha256[j]! }));
}

/** A record sealed in this thread (no workers, or while they boot): its objects are already here. */
function localRecord(result: ProtectedFile): SealedRecord {
  const { objects, ...rest } = result;
  return {
    ...rest,
    sizes: objects.map((o) => o.length),
    deliver: (store) => store.putMany(result.names.map((name, j) => ({ name, bytes: objects[j]!, sha256: result.sha256[j]! }))),
    take: async () => objects,
    release: () => {},
  };
}

/**
 * A fixed set of worker threads doing the byte work (decode, Argon2id, AES, SHA-256, parity) one record each,
 * and storing the records they sealed. `size: 0` runs in this thread (tests, debugging).
 */
export class ProtectPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: ((worker: Worker) => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Workers start as soon as their code is bundled; tasks wait for them. */
  private readonly started: Promise<void>;
  private up = false;
  private inlineBusy = false;
  private closed = false;

  constructor(readonly size: number) {
    this.started = size === 0 ? Promise.resolve() : protectWorkerUrl().then((url) => this.start(url));
    void this.started.then(() => (this.up = true), () => {});
  }

  private start(url: URL): void {
    if (this.closed) return;
    startLargerHeaps();
    for (let i = 0; i < this.size; i++) {
      // The bundle needs no TypeScript loader: without this a worker inherits the parent's `--import tsx`
      // (the `tsx` command, vitest) and boots it again for nothing, ~0.2 s of CPU each.
      const worker = new Worker(url, { ...(url.protocol === 'data:' ? { execArgv: [] } : {}), workerData: { argon2: argon2Location() } });
      worker.on('message', (reply: WorkerReply) => {
        const p = this.pending.get(reply.id);
        if (!p) return;
        this.pending.delete(reply.id);
        if (reply.error) p.reject(new WorkerTaskError(reply.error.code, reply.error.message, reply.error.hint, reply.error.details));
        else p.resolve(reply);
      });
      worker.on('error', (error) => {
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  /** Sends a request to `worker`; resolves with its reply (`drop` has none: it resolves at once). */
  private ask(worker: Worker, request: Request, id = this.nextId++): Promise<WorkerReply> {
    if (request.op === 'drop') {
      worker.postMessage({ ...request, id });
      return Promise.resolve({ id });
    }
    return new Promise<WorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  /** Resolves when the workers are started (their code bundled and loaded; bench:cli times it). */
  async ready(): Promise<void> {
    await this.started;
    if (this.size === 0) return;
    // A worker answers a ping only once it has loaded its code.
    const worker = await this.acquire();
    try {
      await this.ask(worker, { op: 'ping' });
    } finally {
      this.release(worker);
    }
  }

  /** A free worker, taken synchronously when there is one, else the next one released. */
  private acquire(): Promise<Worker> {
    const worker = this.idle.pop();
    if (worker) return Promise.resolve(worker);
    return new Promise<Worker>((resolve) => this.waiting.push(resolve));
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  /** Seals one file; the record's objects stay where they were made until delivered, taken or released. */
  async seal(task: ProtectTask): Promise<SealedRecord> {
    if (this.size === 0) return localRecord(await protectFile(task));
    // While the workers boot (0.06–0.3 s on a busy machine: as long as sealing 15–60 MiB) this thread protects
    // one record at a time itself, so a run starts at once; afterwards it only dispatches and journals.
    if (!this.up && !this.inlineBusy) {
      this.inlineBusy = true;
      try {
        return localRecord(await protectFile(task));
      } finally {
        this.inlineBusy = false;
      }
    }
    await this.started;
    const worker = await this.acquire();
    const record = this.nextId++;
    let report: SealedReport;
    try {
      report = (await this.ask(worker, { op: 'seal', task }, record)).sealed!;
    } finally {
      this.release(worker);
    }
    let settled = false;
    const once = () => {
      if (settled) throw new Error('A sealed record is delivered, taken or released once.');
      settled = true;
    };
    const take = async () => {
      once();
      return (await this.ask(worker, { op: 'take', record })).objects!;
    };
    return {
      ...report,
      deliver: async (store) => {
        if (!store.sinkFor) {
          const objects = await take();
          await store.putMany(objects.map((bytes, j) => ({ name: report.names[j]!, bytes, sha256: report.sha256[j]! })));
          return;
        }
        once();
        let sink;
        try {
          sink = await store.sinkFor(sha256Of(report));
        } catch (error) {
          // No URLs (the presign service refused or is down): the worker gives the record's buffers up.
          void this.ask(worker, { op: 'drop', record });
          throw error;
        }
        await this.ask(worker, { op: 'deliver', record, sink });
      },
      take,
      release: () => {
        if (settled) return;
        settled = true;
        void this.ask(worker, { op: 'drop', record });
      },
    };
  }

  /** Seals one file and brings its objects here (tests; a run uses `seal` and `deliver`). */
  async run(task: ProtectTask): Promise<ProtectedFile> {
    const sealed = await this.seal(task);
    const objects = await sealed.take();
    const { deliver: _d, take: _t, release: _r, sizes: _s, ...rest } = sealed;
    return { ...rest, objects };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.started.catch(() => {});
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
