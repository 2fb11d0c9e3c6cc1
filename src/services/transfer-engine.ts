import { InputInvalidError } from '../core/errors.js';
import { throwIfAborted, type Progress } from '../core/progress.js';
import { backoffDelay, retryAfterMs, sleep as defaultSleep, TRANSFER_BACKOFF, type BackoffPolicy } from './backoff.js';
import { inOrder } from '../core/ordered.js';
import { childController } from './bounded-pool.js';
import type { Transport, TransportResponse } from './http-transport.js';
import type { CloudEndpoint, PresignedBatch, PresignedUrl, PresignObject, PresignOperation } from './presign-client.js';
import { isAbort, isServiceError, ServiceError } from './service-error.js';
import { sha256Base64 } from './sha256.js';
import { storeErrorCode, storeVerdict } from './store-response.js';
import { UrlPool } from './url-pool.js';

/** What the engine needs from a presign service (PresignClient, or a test double). */
export interface Presigner {
  readonly endpoint: CloudEndpoint;
  presign(operation: PresignOperation, objects: readonly PresignObject[], signal?: AbortSignal): Promise<PresignedBatch>;
}

export interface UploadItem {
  readonly name: string;
  readonly blob: Blob;
  /** Base64 SHA-256 of `blob` if already known (the catalog has it); computed otherwise. */
  readonly sha256?: string | null | undefined;
}

export interface DownloadItem {
  readonly name: string;
  /** When known (from the catalog), the download must match it. */
  readonly sha256?: string | null | undefined;
  readonly size?: number | null | undefined;
}

export type TransferOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** Batch progress: `done`/`total` in bytes (items, when a download's sizes are unknown), plus the item that moved. */
export interface TransferProgress extends Progress {
  readonly unit: 'bytes' | 'items';
  /** Items finished (and verified) so far. */
  readonly completed: number;
  readonly item: number;
  readonly itemLoaded: number;
  readonly itemTotal: number;
}

export interface BatchOptions<T> {
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((progress: TransferProgress) => void) | undefined;
  /** Called as each item finishes; awaited before its slot takes the next item (so callers can persist). */
  readonly onItemSettled?: ((index: number, outcome: TransferOutcome<T>) => void | Promise<void>) | undefined;
}

export interface TransferEngineOptions {
  readonly presigner: Presigner;
  readonly transport: Transport;
  /** Transfers at once. 3 keeps a phone's uplink busy without starving the page. */
  readonly concurrency?: number | undefined;
  /** Failed attempts (network, 5xx) per item before giving up. */
  readonly maxAttempts?: number | undefined;
  /** Fresh URLs per item after the store answered 403 (expired or refused). */
  readonly maxRepresigns?: number | undefined;
  readonly backoff?: BackoffPolicy | undefined;
  /** A transfer with no progress for this long is cut and retried. */
  readonly stallTimeoutMs?: number | undefined;
  readonly isOnline?: (() => boolean) | undefined;
  readonly random?: (() => number) | undefined;
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
}

type Op = 'put' | 'get' | 'delete';

interface ItemPlan {
  readonly name: string;
  readonly body?: Blob | undefined;
  readonly expectSha256?: string | null | undefined;
  readonly expectSize?: number | null | undefined;
  /** Bytes this item contributes to progress. */
  readonly weight: number;
}

function defaultIsOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false;
}

/**
 * Moves fragments between this device and the object store through presigned URLs: bounded
 * concurrency, per-item progress, retries with exponential backoff and jitter on network errors and
 * 5xx, a fresh URL when the store answers 403 (expired mid-transfer), SHA-256 sent with every upload
 * and checked on every download whose digest is known, and cancellation by AbortSignal.
 *
 * `*Each` methods settle every item (the outbox persists each outcome); `upload`/`download` fail fast
 * with the first error and cancel the rest.
 */
export class TransferEngine {
  readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly maxRepresigns: number;
  private readonly backoff: BackoffPolicy;
  private readonly stallTimeoutMs: number;
  private readonly isOnline: () => boolean;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Presign requests made, by object name, over the engine's life (diagnostics and tests). */
  readonly presignCounts = new Map<string, number>();

  constructor(private readonly options: TransferEngineOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 3);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.maxRepresigns = Math.max(0, options.maxRepresigns ?? 2);
    this.backoff = options.backoff ?? TRANSFER_BACKOFF;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 30_000;
    this.isOnline = options.isOnline ?? defaultIsOnline;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
  }

  get endpoint(): CloudEndpoint {
    return this.options.presigner.endpoint;
  }

  uploadEach(items: readonly UploadItem[], options: BatchOptions<void> = {}): Promise<TransferOutcome<void>[]> {
    const byName = new Map(items.map((item) => [item.name, item]));
    const prepare = async (name: string): Promise<PresignObject> => {
      const item = byName.get(name)!;
      // Every upload URL binds the exact size and SHA-256: the store refuses any other bytes.
      return { name, size: item.blob.size, sha256: item.sha256 ?? (await sha256Base64(item.blob)) };
    };
    const plans = items.map((item) => ({ name: item.name, body: item.blob, weight: item.blob.size }));
    return this.runBatch('put', plans, prepare, options, () => undefined);
  }

  downloadEach(items: readonly DownloadItem[], options: BatchOptions<Blob> = {}): Promise<TransferOutcome<Blob>[]> {
    const sized = items.every((item) => typeof item.size === 'number');
    const plans = items.map((item) => ({ name: item.name, expectSha256: item.sha256, expectSize: item.size, weight: sized ? item.size! : 1 }));
    return this.runBatch('get', plans, async (name) => ({ name }), options, (blob) => blob, sized ? 'bytes' : 'items');
  }

  deleteEach(names: readonly string[], options: BatchOptions<void> = {}): Promise<TransferOutcome<void>[]> {
    return this.runBatch('delete', names.map((name) => ({ name, weight: 1 })), async (name) => ({ name }), options, () => undefined, 'items');
  }

  /** Uploads all items or fails with the first error (the others are cancelled). */
  async upload(items: readonly UploadItem[], options: Omit<BatchOptions<void>, 'onItemSettled'> = {}): Promise<void> {
    await this.failFast((o) => this.uploadEach(items, o), options);
  }

  /** Downloads all items (in order) or fails with the first error (the others are cancelled). */
  async download(items: readonly DownloadItem[], options: Omit<BatchOptions<Blob>, 'onItemSettled'> = {}): Promise<Blob[]> {
    return this.failFast((o) => this.downloadEach(items, o), options);
  }

  private async failFast<T>(run: (options: BatchOptions<T>) => Promise<TransferOutcome<T>[]>, options: Omit<BatchOptions<T>, 'onItemSettled'>): Promise<T[]> {
    const { controller, dispose } = childController(options.signal);
    let first: unknown;
    let failed = false;
    try {
      const outcomes = await run({
        ...options,
        signal: controller.signal,
        onItemSettled: (_index, outcome) => {
          if (!outcome.ok && !failed) {
            failed = true;
            first = outcome.error;
            controller.abort(outcome.error);
          }
        },
      });
      if (failed) throw first;
      throwIfAborted(options.signal);
      return outcomes.map((o) => (o as { value: T }).value);
    } finally {
      dispose();
    }
  }

  private async runBatch<T>(
    op: Op,
    plans: readonly ItemPlan[],
    prepare: (name: string) => Promise<PresignObject>,
    options: BatchOptions<T>,
    result: (body: Blob) => T,
    unit: 'bytes' | 'items' = 'bytes',
  ): Promise<TransferOutcome<T>[]> {
    const names = plans.map((p) => p.name);
    if (new Set(names).size !== names.length) throw new InputInvalidError('A transfer batch names each object once.', { count: names.length });
    throwIfAborted(options.signal);
    const outcomes: TransferOutcome<T>[] = new Array(plans.length);
    const total = plans.reduce((sum, p) => sum + p.weight, 0);
    const loaded = new Array<number>(plans.length).fill(0);
    let done = 0;
    let completed = 0;
    const report = (index: number, bytes: number, final = false) => {
      const plan = plans[index]!;
      if (final) completed += 1;
      // Counted in items, an item is 0 until it is complete and verified.
      const value = final ? plan.weight : unit === 'bytes' ? Math.min(bytes, plan.weight) : 0;
      done += value - loaded[index]!;
      loaded[index] = value;
      options.onProgress?.({ done, total, unit, completed, item: index, itemLoaded: bytes, itemTotal: unit === 'bytes' ? plan.weight : 0 });
    };
    // Oversized items fail alone, before presigning: the service would refuse their whole chunk.
    const tooLarge = (plan: ItemPlan) => op === 'put' && plan.body !== undefined && plan.body.size > this.endpoint.maxObjectBytes;
    const eligible = plans.filter((p) => !tooLarge(p)).map((p) => p.name);
    const pool = new UrlPool(eligible, this.endpoint.maxObjectsPerRequest, prepare, (objects, signal) => this.presignWithRetry(op, objects, signal));

    // Every item settles (tasks never throw): no signal here, so once the caller's aborts, every remaining
    // item still settles (as ABORTED) quickly.
    await inOrder(
      plans.length,
      this.concurrency,
      async (index) => {
        const plan = plans[index]!;
        let outcome: TransferOutcome<T>;
        try {
          if (tooLarge(plan)) {
            throw new ServiceError('FRAGMENT_TOO_LARGE', `A fragment of ${plan.body!.size} bytes is over the service's limit of ${this.endpoint.maxObjectBytes}.`, {
              name: plan.name,
              size: plan.body!.size,
              limit: this.endpoint.maxObjectBytes,
            });
          }
          const body = await this.transferOne(op, plan, pool, options.signal, (bytes) => report(index, bytes));
          report(index, unit === 'bytes' ? plan.weight : body.size, true);
          outcome = { ok: true, value: result(body) };
        } catch (error) {
          outcome = { ok: false, error };
        }
        outcomes[index] = outcome;
        await options.onItemSettled?.(index, outcome);
      },
    );
    for (const [name, count] of pool.presignCount) this.presignCounts.set(name, (this.presignCounts.get(name) ?? 0) + count);
    return outcomes;
  }

  private offline(cause: unknown): ServiceError {
    return new ServiceError('NETWORK_OFFLINE', 'This device is offline.', {}, { cause });
  }

  private async presignWithRetry(op: Op, objects: readonly PresignObject[], signal: AbortSignal | undefined): Promise<PresignedBatch> {
    for (let failures = 0; ; ) {
      throwIfAborted(signal);
      try {
        return await this.options.presigner.presign(op, objects, signal);
      } catch (error) {
        if (!isServiceError(error) || !error.retryable) throw error;
        if (error.code === 'NETWORK_ERROR' && !this.isOnline()) throw this.offline(error);
        failures += 1;
        if (failures >= this.maxAttempts) throw error;
        const hinted = error.code === 'RATE_LIMITED' && typeof error.details.retryAfterMs === 'number' ? error.details.retryAfterMs : null;
        await this.sleep(hinted ?? backoffDelay(failures, this.backoff, this.random), signal);
      }
    }
  }

  /** One item, with its retries. Resolves with the response body (the fragment, for a download). */
  private async transferOne(op: Op, plan: ItemPlan, pool: UrlPool, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): Promise<Blob> {
    let failures = 0;
    let represigns = 0;
    let lastError: unknown;
    const retryOrThrow = async (error: unknown, waitMs?: number | null) => {
      failures += 1;
      lastError = error;
      if (failures >= this.maxAttempts) throw error;
      onBytes(0);
      await this.sleep(waitMs ?? backoffDelay(failures, this.backoff, this.random), signal);
    };
    for (;;) {
      throwIfAborted(signal);
      const url = await pool.get(plan.name, signal);
      let response: TransportResponse;
      try {
        response = await this.send(url, plan.body, signal, onBytes);
      } catch (error) {
        if (isAbort(error)) throw error;
        if (!isServiceError(error) || !error.retryable) throw error;
        if (!this.isOnline()) throw this.offline(error);
        await retryOrThrow(error);
        continue;
      }
      const s3Code = response.status >= 300 ? await storeErrorCode(response) : null;
      const verdict = storeVerdict(url.method, response.status, s3Code);
      const details = { name: plan.name, status: response.status, ...(s3Code ? { s3Code } : {}) };
      if (verdict === 'ok') {
        if (op !== 'get') return response.body;
        const mismatch = await this.verifyDownload(plan, response.body);
        if (mismatch === null) return response.body;
        await retryOrThrow(new ServiceError('CHECKSUM_MISMATCH', `The downloaded fragment does not match its ${mismatch}.`, { name: plan.name, check: mismatch }));
        continue;
      }
      if (verdict === 'represign') {
        if (represigns >= this.maxRepresigns) {
          throw new ServiceError('TRANSFER_FORBIDDEN', `The object store refused the signed URL (403${s3Code ? ` ${s3Code}` : ''}), also after ${represigns} fresh one(s).`, details, { cause: lastError });
        }
        represigns += 1;
        pool.invalidate(plan.name);
        continue;
      }
      if (verdict === 'missing') throw new ServiceError('FRAGMENT_NOT_IN_CLOUD', 'The fragment is not in the cloud.', details);
      if (verdict === 'retry') {
        await retryOrThrow(
          new ServiceError('TRANSFER_FAILED', `The object store answered ${response.status}${s3Code ? ` ${s3Code}` : ''}.`, details, { retryable: true }),
          retryAfterMs(response.header('retry-after')),
        );
        continue;
      }
      throw new ServiceError('TRANSFER_FAILED', `The object store refused the transfer (${response.status}${s3Code ? ` ${s3Code}` : ''}).`, details);
    }
  }

  /** null when the download is what the catalog expects; otherwise which check failed. */
  private async verifyDownload(plan: ItemPlan, body: Blob): Promise<'size' | 'SHA-256' | null> {
    if (typeof plan.expectSize === 'number' && body.size !== plan.expectSize) return 'size';
    if (typeof plan.expectSha256 === 'string' && (await sha256Base64(body)) !== plan.expectSha256) return 'SHA-256';
    return null;
  }

  /**
   * One HTTP request through the transport, cut (and reported as NETWORK_TIMEOUT) when no progress
   * is seen for `stallTimeoutMs`: a stalled connection would otherwise hold a slot forever.
   */
  private async send(url: PresignedUrl, body: Blob | undefined, signal: AbortSignal | undefined, onBytes: (bytes: number) => void): Promise<TransportResponse> {
    const { controller, dispose } = childController(signal);
    let stalled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        controller.abort(new Error('stalled'));
      }, this.stallTimeoutMs);
    };
    arm();
    try {
      return await this.options.transport.send(
        { method: url.method, url: url.url, headers: url.headers, body: url.method === 'PUT' ? body : undefined },
        {
          signal: controller.signal,
          onUploadProgress: (bytes) => {
            arm();
            if (url.method === 'PUT') onBytes(bytes);
          },
          onDownloadProgress: (bytes) => {
            arm();
            if (url.method === 'GET') onBytes(bytes);
          },
        },
      );
    } catch (error) {
      if (stalled && !signal?.aborted) {
        throw new ServiceError('NETWORK_TIMEOUT', `No progress for ${Math.round(this.stallTimeoutMs / 1000)} s; the connection was cut.`, { method: url.method }, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      dispose();
    }
  }
}
