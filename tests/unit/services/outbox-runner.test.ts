import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import type { OnlineStatus } from '../../../src/services/online-status.js';
import type { OutboxEventMap } from '../../../src/services/outbox-events.js';
import { OutboxRunner, type OutboxRunnerOptions } from '../../../src/services/outbox-runner.js';
import { storeProtectedRecord } from '../../../src/services/record-store.js';
import { ServiceError } from '../../../src/services/service-error.js';
import { TransferEngine } from '../../../src/services/transfer-engine.js';
import { claimEntries, countOutbox, dueEntries, listOutbox } from '../../../src/storage/outbox-repository.js';
import { getFragments, getRecord } from '../../../src/storage/record-repository.js';
import type { VaultDb } from '../../../src/storage/open-vault-db.js';
import { freshDb } from '../storage/helpers.js';
import { FakeCloud, recordingSleep } from './fake-cloud.js';
import { memoryLocks, protectedSample, until } from './helpers.js';

const roomy = { estimate: async () => ({ usage: 0, quota: 1e9 }) };
const FAST = { baseMs: 2, maxMs: 10 };
const runners: OutboxRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

function switchableOnline(initial: boolean): OnlineStatus & { set(value: boolean): void } {
  let online = initial;
  const listeners = new Set<() => void>();
  return {
    isOnline: () => online,
    onOnline: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(value) {
      online = value;
      if (value) listeners.forEach((l) => l());
    },
  };
}

function makeRunner(db: VaultDb, cloud: FakeCloud, extra: Partial<OutboxRunnerOptions> & { engineOnline?: () => boolean; maxAttempts?: number } = {}) {
  const runner = new OutboxRunner({
    db,
    engine: async () => new TransferEngine({ presigner: cloud.presigner, transport: cloud.transport, sleep: recordingSleep().sleep, isOnline: extra.engineOnline ?? (() => true), maxAttempts: extra.maxAttempts ?? 3 }),
    locks: null,
    channelName: null,
    backoff: FAST,
    offlineProbe: FAST,
    ...extra,
  });
  runners.push(runner);
  return runner;
}

function record<K extends keyof OutboxEventMap>(runner: OutboxRunner, type: K): OutboxEventMap[K][] {
  const seen: OutboxEventMap[K][] = [];
  runner.on(type, (detail) => seen.push(detail));
  return seen;
}

async function stored(db: VaultDb, notify: () => void = () => {}) {
  const sample = await protectedSample();
  await storeProtectedRecord(sample.result, sample.recordId, sample.recordKey, { db, storage: roomy, notify });
  return sample;
}

async function expectAllInCloud(db: VaultDb, cloud: FakeCloud, recordId: string) {
  for (const row of await getFragments(db, recordId)) {
    expect(cloud.objects.get(row.objectName)).toEqual(new Uint8Array(await row.blob!.arrayBuffer()));
    expect(row.uploadedAt).not.toBeNull();
  }
}

describe('outbox runner', () => {
  it('uploads a stored record and reports k of n, then synced', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    const runner = makeRunner(db, cloud);
    const progress = record(runner, 'progress');
    const synced = record(runner, 'record-synced');
    const states = record(runner, 'state');
    const sample = await stored(db, () => runner.wake());
    runner.start();
    await runner.whenSettled();
    expect(progress.map((p) => p.uploaded)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.every((p) => p.total === 8 && p.recordId === sample.recordId)).toBe(true);
    expect(synced).toEqual([{ recordId: sample.recordId }]);
    expect(states.map((s) => s.state)).toContain('uploading');
    expect((await getRecord(db, sample.recordId))?.sync).toMatchObject({ state: 'synced', uploaded: 8 });
    await expectAllInCloud(db, cloud, sample.recordId);
    // One presign request for the whole record.
    expect(cloud.presignCalls).toHaveLength(1);
  });

  it('resumes after a crash: entries left in-flight are uploaded, each object stored once', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    const sample = await stored(db);
    // A tab claimed three entries and uploaded one of them, then closed before recording it.
    const claimed = await claimEntries(db, await dueEntries(db, Date.now(), 3), Date.now());
    const first = (await getFragments(db, sample.recordId))[claimed[0]!.entry.position]!;
    cloud.objects.set(first.objectName, new Uint8Array(await first.blob!.arrayBuffer()));
    expect(await countOutbox(db)).toEqual({ pending: 5, inFlight: 3, failed: 0 });

    const runner = makeRunner(db, cloud);
    runner.start();
    await runner.whenSettled();
    expect(await countOutbox(db)).toEqual({ pending: 0, inFlight: 0, failed: 0 });
    await expectAllInCloud(db, cloud, sample.recordId);
    // Re-sending the interrupted PUT is idempotent: still exactly one object per name.
    expect(cloud.objects.size).toBe(8);
    expect([...cloud.putCounts.values()].every((n) => n === 1)).toBe(true);
  });

  it('two tabs: only the lock holder uploads; the other takes over when the first stops', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    const locks = memoryLocks();
    const a = makeRunner(db, cloud, { locks });
    const b = makeRunner(db, cloud, { locks });
    const bStates = record(b, 'state');
    const one = await stored(db, () => (a.wake(), b.wake()));
    a.start();
    b.start();
    await a.whenSettled();
    expect(b.state).toBe('waiting-for-lock');
    expect(bStates.map((s) => s.state)).toEqual(['waiting-for-lock']);
    expect([...cloud.putCounts.values()]).toEqual(Array(8).fill(1));

    await a.stop();
    const two = await stored(db, () => b.wake());
    await until(b, ['state', 'progress'], async () => (await countOutbox(db)).pending === 0 && b.state === 'idle');
    await expectAllInCloud(db, cloud, one.recordId);
    await expectAllInCloud(db, cloud, two.recordId);
    expect(cloud.objects.size).toBe(16);
    expect([...cloud.putCounts.values()].every((n) => n === 1)).toBe(true);
  });

  it('pauses while offline (no requests at all) and completes when the device is back online', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    const online = switchableOnline(false);
    const runner = makeRunner(db, cloud, { online, offlineProbe: { baseMs: 60_000, maxMs: 60_000 } });
    const sample = await stored(db);
    runner.start();
    await until(runner, ['state'], () => runner.state === 'offline');
    expect(cloud.requests).toHaveLength(0);
    expect(cloud.presignCalls).toHaveLength(0);
    online.set(true);
    await runner.whenSettled();
    await expectAllInCloud(db, cloud, sample.recordId);
  });

  it('treats network errors as offline: releases entries without counting attempts, probes, completes', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    let outage = true;
    cloud.fault = () => (outage ? 'network-error' : undefined);
    const runner = makeRunner(db, cloud, { maxAttempts: 2 });
    const sample = await stored(db);
    runner.start();
    await until(runner, ['state'], () => runner.state === 'offline');
    expect((await listOutbox(db)).every((e) => e.attempts === 0 && e.state !== 'failed')).toBe(true);
    outage = false;
    await runner.whenSettled();
    await expectAllInCloud(db, cloud, sample.recordId);
  });

  it('a refused token: re-reads the config once (dev tokens rotate), then fails the entries; retryFailed finishes them', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    let tokenValid = true;
    cloud.presignFault = () => (tokenValid ? undefined : new ServiceError('PRESIGN_UNAUTHORIZED', 'unknown token', { status: 401 }));
    let engines = 0;
    const runner = new OutboxRunner({
      db,
      engine: async () => {
        engines += 1;
        return new TransferEngine({ presigner: cloud.presigner, transport: cloud.transport, sleep: recordingSleep().sleep, isOnline: () => true });
      },
      locks: null,
      channelName: null,
      backoff: FAST,
      offlineProbe: FAST,
    });
    runners.push(runner);
    const failed = record(runner, 'failed');
    await stored(db, () => runner.wake());
    runner.start();
    await runner.whenSettled();
    expect(engines).toBe(1);

    // The server restarted with another token: the engine built earlier now gets 401.
    tokenValid = false;
    const second = await stored(db, () => runner.wake());
    await runner.whenSettled();
    // The stale engine's 401 releases the entries and one engine is rebuilt; its 401 fails them.
    expect(engines).toBe(2);
    expect(failed).toHaveLength(8);
    expect(failed.every((f) => f.error.code === 'PRESIGN_UNAUTHORIZED' && !f.willRetry && f.error.hint.length > 0)).toBe(true);
    expect((await getRecord(db, second.recordId))?.sync).toMatchObject({ state: 'failed', lastError: { code: 'PRESIGN_UNAUTHORIZED' } });
    expect(await countOutbox(db)).toEqual({ pending: 0, inFlight: 0, failed: 8 });

    tokenValid = true;
    runner.reconfigure();
    expect(await runner.retryFailed(second.recordId)).toBe(8);
    await runner.whenSettled();
    expect(engines).toBe(3);
    expect((await getRecord(db, second.recordId))?.sync).toMatchObject({ state: 'synced', uploaded: 8, lastError: null });
    await expectAllInCloud(db, cloud, second.recordId);
  });

  it('a transfer that keeps failing with 5xx is rescheduled with backoff (attempts counted) and succeeds later', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    let broken = true;
    cloud.fault = (r) => (broken && r.method === 'PUT' ? { status: 500 } : undefined);
    const runner = makeRunner(db, cloud, { maxAttempts: 2 });
    const failed = record(runner, 'failed');
    const sample = await stored(db);
    runner.start();
    await until(runner, ['failed'], () => failed.length >= 8);
    expect(failed.every((f) => f.willRetry && f.error.code === 'TRANSFER_FAILED')).toBe(true);
    expect((await listOutbox(db)).every((e) => e.attempts >= 1 && e.state !== 'failed')).toBe(true);
    broken = false;
    await runner.whenSettled();
    await expectAllInCloud(db, cloud, sample.recordId);
  });

  it('carries out queued deletes', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    const runner = makeRunner(db, cloud);
    const sample = await stored(db, () => runner.wake());
    runner.start();
    await runner.whenSettled();
    expect(cloud.objects.size).toBe(8);
    const { deleteRecord } = await import('../../../src/services/record-store.js');
    await deleteRecord(sample.recordId, { db, notify: () => runner.wake() });
    await runner.whenSettled();
    expect(cloud.objects.size).toBe(0);
    expect(await countOutbox(db)).toEqual({ pending: 0, inFlight: 0, failed: 0 });
  });

  it('stop() cancels in-flight transfers and hands their entries back as pending', async () => {
    const db = await freshDb();
    const cloud = new FakeCloud();
    cloud.fault = () => 'hang';
    const runner = makeRunner(db, cloud);
    await stored(db);
    runner.start();
    await until(runner, ['state'], () => runner.state === 'uploading');
    // The fake store holds every request open; wait (bounded) until the three slots are busy.
    for (let i = 0; i < 1_000 && cloud.inFlight < 3; i++) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(cloud.inFlight).toBe(3);
    await runner.stop();
    expect(runner.state).toBe('stopped');
    expect(await countOutbox(db)).toEqual({ pending: 8, inFlight: 0, failed: 0 });
    expect((await listOutbox(db)).every((e) => e.attempts === 0)).toBe(true);
  });
});
