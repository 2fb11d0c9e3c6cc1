import type { VaultDb } from '../storage/open-vault-db.js';
import {
  claimEntries,
  completeEntry,
  countOutbox,
  dueEntries,
  failEntry,
  nextDueAt,
  recoverInFlight,
  releaseEntry,
  rescheduleEntry,
  retryFailedEntries,
  type ClaimedEntry,
} from '../storage/outbox-repository.js';
import { objectCount, PRIMARY_PROVIDER, type OutboxEntry } from '../storage/schema.js';
import { backoffDelay, OUTBOX_BACKOFF, type BackoffPolicy } from './backoff.js';
import { childController } from './bounded-pool.js';
import { browserOnlineStatus, type OnlineStatus } from './online-status.js';
import type { OutboxEventMap, OutboxEventType, RunnerState } from './outbox-events.js';
import { isAbort, isConnectivityError, isServiceError, ServiceError, summarizeError } from './service-error.js';
import type { TransferEngine, TransferOutcome } from './transfer-engine.js';

/** One runner per origin: the Web Lock makes every other tab wait (and take over when the owner closes). */
export const OUTBOX_LOCK_NAME = 'ehr-vault-outbox';
/** Tabs tell the runner (wherever it lives) that new entries were queued. */
export const OUTBOX_CHANNEL_NAME = 'ehr-vault-outbox';
/**
 * The runner that holds the lock tells the other tabs' runners what happened (k of n, synced, failed),
 * and they re-emit it: a tab whose runner waits for the lock still sees its records' sync states change.
 */
const RELAYED_EVENTS: readonly OutboxEventType[] = ['progress', 'record-synced', 'failed'];

/** The part of `navigator.locks` used here. */
export interface LockManagerLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

export interface OutboxRunnerOptions {
  readonly db: VaultDb;
  /**
   * Builds (or rebuilds after `reconfigure()`) the transfer engine of one storage connection (`provider`,
   * PRIMARY_PROVIDER unless a record spreads its objects over several); may need the network for /api/config.
   */
  readonly engine: (provider: string) => Promise<TransferEngine>;
  /** Default `navigator.locks`; null runs without a lock (Node, tests that bring their own). */
  readonly locks?: LockManagerLike | null | undefined;
  readonly online?: OnlineStatus | undefined;
  /** Entries claimed per round; one presign request covers them. */
  readonly batchSize?: number | undefined;
  /** Delays before an entry is tried again after its transfer gave up. */
  readonly backoff?: BackoffPolicy | undefined;
  /** Delays between probes while network errors say "offline" though the browser says online. */
  readonly offlineProbe?: BackoffPolicy | undefined;
  /** BroadcastChannel to hear of new entries from other tabs; null disables. */
  readonly channelName?: string | null | undefined;
  readonly now?: (() => number) | undefined;
  readonly random?: (() => number) | undefined;
}

function defaultLocks(): LockManagerLike | null {
  return typeof navigator !== 'undefined' && navigator.locks ? (navigator.locks as unknown as LockManagerLike) : null;
}

interface RoundResult {
  readonly connectivityLost: boolean;
  readonly unauthorized: boolean;
}

/**
 * Uploads (and deletes) what the persistent outbox holds, so protecting a record never waits for the
 * network and survives a reload or a closed tab:
 *
 * - on start (once it holds the lock), entries a crashed tab left in-flight are pending again;
 * - rounds claim due entries, transfer them through the engine, and persist each outcome as it
 *   happens (done → removed; transient → later, with backoff; needs a person → failed);
 * - offline (navigator.onLine false, or network errors) pauses until the 'online' event or a probe;
 * - events (`on(type, listener)`) tell the UI per record "k of n uploaded", and what failed and why.
 */
export class OutboxRunner extends EventTarget {
  private readonly db: VaultDb;
  private readonly locks: LockManagerLike | null;
  private readonly online: OnlineStatus;
  private readonly batchSize: number;
  private readonly backoff: BackoffPolicy;
  private readonly offlineProbe: BackoffPolicy;
  private readonly now: () => number;
  private readonly random: () => number;
  /** One engine per storage connection, built when first needed. */
  private engines = new Map<string, Promise<TransferEngine>>();
  private controller: AbortController | undefined;
  private task: Promise<void> | undefined;
  private current: RunnerState = 'stopped';
  private wakers = new Set<() => void>();
  private wakePending = false;
  private channel: BroadcastChannel | undefined;
  private relay: BroadcastChannel | undefined;
  private unsubscribeOnline: (() => void) | undefined;

  constructor(private readonly options: OutboxRunnerOptions) {
    super();
    this.db = options.db;
    this.locks = options.locks === undefined ? defaultLocks() : options.locks;
    this.online = options.online ?? browserOnlineStatus();
    this.batchSize = Math.max(1, options.batchSize ?? 16);
    this.backoff = options.backoff ?? OUTBOX_BACKOFF;
    this.offlineProbe = options.offlineProbe ?? { baseMs: 2_000, maxMs: 60_000 };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  get state(): RunnerState {
    return this.current;
  }

  /** Typed listener; returns a function that removes it. */
  on<K extends OutboxEventType>(type: K, listener: (detail: OutboxEventMap[K]) => void): () => void {
    const handler = (event: Event) => listener((event as CustomEvent<OutboxEventMap[K]>).detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  private emit<K extends OutboxEventType>(type: K, detail: OutboxEventMap[K]): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
    if (RELAYED_EVENTS.includes(type)) this.relay?.postMessage({ type, detail });
  }

  private setState(state: RunnerState): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', { state });
  }

  /** Starts the runner (idempotent). In a second tab it waits for the lock. */
  start(): void {
    if (this.task) return;
    const controller = new AbortController();
    this.controller = controller;
    const channelName = this.options.channelName === undefined ? OUTBOX_CHANNEL_NAME : this.options.channelName;
    if (channelName !== null && typeof BroadcastChannel === 'function') {
      this.channel = new BroadcastChannel(channelName);
      this.channel.onmessage = () => this.wake();
      this.relay = new BroadcastChannel(`${channelName}-events`);
      this.relay.onmessage = (event: MessageEvent<{ type?: unknown; detail?: unknown }>) => {
        const { type, detail } = event.data ?? {};
        if (RELAYED_EVENTS.includes(type as OutboxEventType)) this.dispatchEvent(new CustomEvent(type as OutboxEventType, { detail }));
      };
    }
    this.unsubscribeOnline = this.online.onOnline(() => this.wake());
    const body = () => this.run(controller.signal);
    this.setState('waiting-for-lock');
    const running = this.locks ? this.locks.request(OUTBOX_LOCK_NAME, { signal: controller.signal }, body) : body();
    this.task = running
      .catch((error: unknown) => {
        // Stopping while waiting for the lock rejects the lock request: that is a normal stop.
        if (!controller.signal.aborted) this.emit('runner-error', { error: summarizeError(error) });
      })
      .finally(() => {
        this.channel?.close();
        this.channel = undefined;
        this.relay?.close();
        this.relay = undefined;
        this.unsubscribeOnline?.();
        this.task = undefined;
        this.setState('stopped');
      });
  }

  /** Stops after in-flight transfers were cancelled and their entries released; resolves when done. */
  async stop(): Promise<void> {
    this.controller?.abort(new DOMException('The outbox runner was stopped.', 'AbortError'));
    this.wake();
    await this.task;
  }

  /** Look now: something was queued, settings changed, or the network came back. */
  wake(): void {
    this.wakePending = true;
    for (const waker of this.wakers) waker();
  }

  /** The cloud settings changed: build a new engine for the next round, and look now. */
  reconfigure(): void {
    this.engines.clear();
    this.wake();
  }

  /** After a person fixed the cause: failed entries (of one record, or all) are tried again now. */
  async retryFailed(recordId?: string): Promise<number> {
    const count = await retryFailedEntries(this.db, this.now(), recordId);
    this.wake();
    return count;
  }

  /** Resolves once nothing is pending or in flight (failed entries wait for a person and do not count). */
  async whenSettled(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const counts = await countOutbox(this.db);
      if (counts.pending === 0 && counts.inFlight === 0) return;
      await new Promise<void>((resolve, reject) => {
        const types: OutboxEventType[] = ['state', 'progress', 'failed'];
        const offs = types.map((type) => this.on(type, () => done()));
        const onAbort = () => {
          done();
          reject(signal?.reason);
        };
        function done() {
          offs.forEach((off) => off());
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  private waitForWake(signal: AbortSignal, ms: number | null): Promise<void> {
    if (this.wakePending || signal.aborted) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.wakers.delete(finish);
        signal.removeEventListener('abort', finish);
        this.wakePending = false;
        resolve();
      };
      this.wakers.add(finish);
      signal.addEventListener('abort', finish, { once: true });
      if (ms !== null) timer = setTimeout(finish, Math.max(0, ms));
    });
  }

  private async getEngine(provider: string): Promise<{ engine: TransferEngine; fresh: boolean }> {
    const known = this.engines.get(provider);
    if (known) return { engine: await known, fresh: false };
    const building = this.options.engine(provider);
    this.engines.set(provider, building);
    try {
      return { engine: await building, fresh: true };
    } catch (error) {
      if (this.engines.get(provider) === building) this.engines.delete(provider);
      throw error;
    }
  }

  private async run(signal: AbortSignal): Promise<void> {
    // We hold the lock: no other runner exists, so whatever is in-flight was left by a closed tab.
    await recoverInFlight(this.db, this.now());
    let offlineRounds = 0;
    let troubleRounds = 0;
    while (!signal.aborted) {
      try {
        if (!this.online.isOnline()) {
          this.setState('offline');
          // The 'online' event wakes us; the probe covers browsers that miss it.
          await this.waitForWake(signal, this.offlineProbe.maxMs);
          continue;
        }
        const due = await dueEntries(this.db, this.now(), this.batchSize);
        if (due.length === 0) {
          this.setState('idle');
          const next = await nextDueAt(this.db);
          await this.waitForWake(signal, next === null ? null : next - this.now());
          continue;
        }
        // Entries go to their own storage connection; one round per connection that has due entries.
        const byProvider = new Map<string, OutboxEntry[]>();
        for (const entry of due) {
          const provider = entry.provider ?? PRIMARY_PROVIDER;
          byProvider.set(provider, [...(byProvider.get(provider) ?? []), entry]);
        }
        const result = { connectivityLost: false, unauthorized: false };
        // Set when the only connection could not be built and the runner already waited (as before issue 17).
        let waited = false;
        for (const [provider, entries] of byProvider) {
          if (signal.aborted) break;
          let engine: TransferEngine;
          let fresh: boolean;
          try {
            ({ engine, fresh } = await this.getEngine(provider));
          } catch (error) {
            const reachable = isConnectivityError(error) || (isServiceError(error) && error.retryable);
            if (byProvider.size > 1) {
              // Several connections: one that cannot be reached or is not configured must not hold up the
              // others, so its entries wait (with backoff) or stop for a person, entry by entry.
              await this.setAside(entries, error, reachable);
              continue;
            }
            if (reachable) {
              offlineRounds += 1;
              this.setState('offline');
              await this.waitForWake(signal, backoffDelay(offlineRounds, this.offlineProbe, this.random));
            } else {
              // No service configured (or no token): nothing to do until a person acts.
              this.setState('not-configured');
              this.emit('runner-error', { error: summarizeError(error) });
              await this.waitForWake(signal, null);
            }
            waited = true;
            continue;
          }
          this.setState('uploading');
          const round = await this.round(engine, entries, signal, fresh);
          // A dev token rotates with every server start: read the config again once before failing entries.
          if (round.unauthorized) this.engines.delete(provider);
          result.connectivityLost ||= round.connectivityLost;
          result.unauthorized ||= round.unauthorized;
        }
        if (waited) continue;
        troubleRounds = 0;
        if (result.connectivityLost) {
          offlineRounds += 1;
          this.setState('offline');
          await this.waitForWake(signal, backoffDelay(offlineRounds, this.offlineProbe, this.random));
        } else {
          offlineRounds = 0;
        }
      } catch (error) {
        if (signal.aborted && isAbort(error)) break;
        troubleRounds += 1;
        this.emit('runner-error', { error: summarizeError(error) });
        await this.waitForWake(signal, backoffDelay(troubleRounds, this.offlineProbe, this.random));
      }
    }
  }

  /** The entries of a connection that cannot be used now: later with backoff (unreachable), or failed (not configured). */
  private async setAside(entries: readonly OutboxEntry[], error: unknown, retry: boolean): Promise<void> {
    const summary = summarizeError(error);
    const now = this.now();
    for (const { entry } of await claimEntries(this.db, entries, now)) {
      if (retry) {
        await rescheduleEntry(this.db, entry, summary, now, backoffDelay(entry.attempts + 1, this.backoff, this.random));
      } else {
        await failEntry(this.db, entry, summary, now);
      }
      this.emit('failed', { recordId: entry.recordId, position: entry.position, op: entry.op, error: summary, willRetry: retry });
    }
  }

  /** Claims due entries and transfers them, persisting each outcome as soon as it is known. */
  private async round(engine: TransferEngine, due: readonly OutboxEntry[], signal: AbortSignal, freshEngine: boolean): Promise<RoundResult> {
    const claimed = await claimEntries(this.db, due, this.now());
    const flags = { connectivityLost: false, unauthorized: false };
    const unsettled = new Set(claimed.map((c) => c.entry));
    // Once the network is gone, the rest of the round would only fail one by one: cut it short.
    const { controller, dispose } = childController(signal);
    const settle = async (entry: OutboxEntry, outcome: TransferOutcome<unknown>) => {
      unsettled.delete(entry);
      await this.settle(entry, outcome, flags, freshEngine);
      if (flags.connectivityLost || flags.unauthorized) controller.abort(new DOMException('Round cut short.', 'AbortError'));
    };
    const roundSignal = controller.signal;
    try {
      const puts: ClaimedEntry[] = [];
      for (const claim of claimed.filter((c) => c.entry.op === 'put')) {
        if (claim.fragment?.blob) puts.push(claim);
        else {
          // The catalog lost the bytes (evicted or cleared): retrying cannot help, a person must re-protect.
          const error = new ServiceError('FRAGMENT_UNAVAILABLE', 'The fragment to upload is no longer on this device.', { recordId: claim.entry.recordId, position: claim.entry.position });
          await settle(claim.entry, { ok: false, error });
        }
      }
      if (puts.length > 0) {
        await engine.uploadEach(
          puts.map((c) => ({ name: c.entry.objectName, blob: c.fragment!.blob!, sha256: c.fragment!.sha256 })),
          {
            signal: roundSignal,
            onProgress: (p) => {
              const entry = puts[p.item]!.entry;
              this.emit('fragment-progress', { recordId: entry.recordId, position: entry.position, loaded: p.itemLoaded, total: p.itemTotal });
            },
            onItemSettled: (index, outcome) => settle(puts[index]!.entry, outcome),
          },
        );
      }
      const deletes = claimed.filter((c) => c.entry.op === 'delete');
      if (deletes.length > 0 && !roundSignal.aborted) {
        await engine.deleteEach(
          deletes.map((c) => c.entry.objectName),
          { signal: roundSignal, onItemSettled: (index, outcome) => settle(deletes[index]!.entry, outcome) },
        );
      }
    } finally {
      dispose();
      // Cut short (stopped before the engine settled them): hand the entries back, no attempt counted.
      for (const entry of unsettled) await releaseEntry(this.db, entry, this.now()).catch(() => undefined);
    }
    return flags;
  }

  private async settle(entry: OutboxEntry, outcome: TransferOutcome<unknown>, flags: { connectivityLost: boolean; unauthorized: boolean }, freshEngine: boolean): Promise<void> {
    const now = this.now();
    if (outcome.ok) {
      const { record } = await completeEntry(this.db, entry, now);
      if (record && entry.op === 'put') {
        this.emit('progress', { recordId: entry.recordId, uploaded: record.sync.uploaded, total: objectCount(record), state: record.sync.state });
        if (record.sync.state === 'synced') this.emit('record-synced', { recordId: entry.recordId });
      }
      return;
    }
    const { error } = outcome;
    if (isAbort(error)) {
      // Stopped (or the batch was cut short): not the entry's fault, no attempt counted.
      await releaseEntry(this.db, entry, now);
      return;
    }
    if (isConnectivityError(error)) {
      flags.connectivityLost = true;
      await releaseEntry(this.db, entry, now);
      return;
    }
    if (isServiceError(error) && error.code === 'PRESIGN_UNAUTHORIZED' && !freshEngine) {
      flags.unauthorized = true;
      await releaseEntry(this.db, entry, now);
      return;
    }
    const summary = summarizeError(error);
    if (isServiceError(error) && error.retryable) {
      const delay = backoffDelay(entry.attempts + 1, this.backoff, this.random);
      await rescheduleEntry(this.db, entry, summary, now, delay);
      this.emit('failed', { recordId: entry.recordId, position: entry.position, op: entry.op, error: summary, willRetry: true });
      return;
    }
    await failEntry(this.db, entry, summary, now);
    this.emit('failed', { recordId: entry.recordId, position: entry.position, op: entry.op, error: summary, willRetry: false });
  }
}
