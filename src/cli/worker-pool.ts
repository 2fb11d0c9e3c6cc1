import { Worker } from 'node:worker_threads';
import { EhrVaultError } from '../core/errors.js';
import { protectFile, type ProtectedFile, type ProtectTask } from './protect-file.js';
import { protectWorkerUrl } from './worker-source.js';

/** An error that crossed the thread boundary, keeping its code, hint and details. */
export class WorkerTaskError extends EhrVaultError<string> {}

interface Pending {
  resolve: (value: ProtectedFile) => void;
  reject: (error: unknown) => void;
}

/**
 * A fixed set of worker threads doing the byte work (decode, Argon2id, AES, SHA-256) one record each.
 * `size: 0` runs in this thread (tests, debugging).
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
    for (let i = 0; i < this.size; i++) {
      // The bundle needs no TypeScript loader: without this a worker inherits the parent's `--import tsx`
      // (the `tsx` command, vitest) and boots it again for nothing, ~0.2 s of CPU each.
      const worker = new Worker(url, url.protocol === 'data:' ? { execArgv: [] } : {});
      worker.on('message', (message: { id: number; result?: ProtectedFile; error?: { code: string; message: string; hint: string; details: Record<string, unknown> } }) => {
        const p = this.pending.get(message.id);
        if (!p) return;
        this.pending.delete(message.id);
        if (message.error) p.reject(new WorkerTaskError(message.error.code, message.error.message, message.error.hint, message.error.details));
        else p.resolve(message.result!);
      });
      worker.on('error', (error) => {
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      });
      this.all.push(worker);
      this.idle.push(worker);
    }
  }

  /** Resolves when the workers are started (their code bundled and loaded; bench:cli times it). */
  async ready(): Promise<void> {
    await this.started;
    if (this.size === 0) return;
    // A worker answers a ping only once it has loaded its code.
    const worker = await this.acquire();
    try {
      await new Promise<void>((resolve, reject) => {
        const id = this.nextId++;
        this.pending.set(id, { resolve: () => resolve(), reject });
        worker.postMessage({ id, ping: true });
      });
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

  async run(task: ProtectTask): Promise<ProtectedFile> {
    if (this.size === 0) return protectFile(task);
    // While the workers boot (0.06–0.3 s on a busy machine: as long as sealing 15–60 MiB) this thread protects
    // one record at a time itself, so a run starts at once; afterwards it only dispatches, journals and uploads.
    if (!this.up && !this.inlineBusy) {
      this.inlineBusy = true;
      try {
        return await protectFile(task);
      } finally {
        this.inlineBusy = false;
      }
    }
    await this.started;
    const worker = await this.acquire();
    const id = this.nextId++;
    try {
      return await new Promise<ProtectedFile>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        worker.postMessage({ id, task });
      });
    } finally {
      this.release(worker);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.started.catch(() => {});
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
