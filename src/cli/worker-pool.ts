import { Worker } from 'node:worker_threads';
import { EhrVaultError } from '../core/errors.js';
import { protectFile, type ProtectedFile, type ProtectTask } from './protect-file.js';

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

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url));
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
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
