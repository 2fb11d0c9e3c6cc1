import { describe, expect, it } from 'vitest';
import { backoffDelay, TRANSFER_BACKOFF } from '../../../src/services/backoff.js';
import { ServiceError } from '../../../src/services/service-error.js';
import { TransferEngine, type TransferEngineOptions } from '../../../src/services/transfer-engine.js';
import { FakeCloud, objectName, randomBlob, recordingSleep, sha256 } from './fake-cloud.js';

const codeOf = async (run: () => Promise<unknown>) => run().then(() => 'ok', (e: { code?: string }) => e.code ?? `untyped: ${String(e)}`);

function engineFor(cloud: FakeCloud, extra: Partial<TransferEngineOptions> = {}) {
  const clock = recordingSleep();
  const engine = new TransferEngine({ presigner: cloud.presigner, transport: cloud.transport, sleep: clock.sleep, isOnline: () => true, ...extra });
  return { engine, delays: clock.delays };
}

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

describe('transfer engine', () => {
  it('uploads with at most 3 at once, one presign request for the batch, size and SHA-256 signed', async () => {
    const cloud = new FakeCloud();
    const { engine } = engineFor(cloud);
    const items = Array.from({ length: 10 }, (_, i) => ({ name: objectName(i), blob: randomBlob(1000 + i, i) }));
    const progress: number[] = [];
    await engine.upload(items, { onProgress: (p) => progress.push(p.done) });
    expect(cloud.maxInFlight).toBeLessThanOrEqual(3);
    expect(cloud.maxInFlight).toBeGreaterThan(1);
    expect(cloud.presignCalls).toHaveLength(1);
    const sent = cloud.presignCalls[0]!.objects;
    for (const [i, item] of items.entries()) {
      expect(sent[i]).toEqual({ name: item.name, size: item.blob.size, sha256: sha256(await bytesOf(item.blob)) });
      expect(cloud.objects.get(item.name)).toEqual(await bytesOf(item.blob));
    }
    const total = items.reduce((a, i) => a + i.blob.size, 0);
    expect(progress.at(-1)).toBe(total);
    expect(Math.max(...progress)).toBeLessThanOrEqual(total);
  });

  it('binds size and checksum into every upload, whatever the service says it verifies', async () => {
    const cloud = new FakeCloud({ checksumSha256: false });
    const { engine } = engineFor(cloud);
    const blob = randomBlob(64, 1);
    await engine.upload([{ name: objectName(1), blob }]);
    expect(cloud.presignCalls[0]!.objects[0]).toEqual({ name: objectName(1), size: 64, sha256: sha256(await bytesOf(blob)) });
  });

  it('re-presigns when the store answers 403 (URL expired mid-transfer) and succeeds', async () => {
    const cloud = new FakeCloud();
    cloud.expired = (generation) => generation === 1;
    const { engine } = engineFor(cloud);
    const items = Array.from({ length: 4 }, (_, i) => ({ name: objectName(i), blob: randomBlob(300, i) }));
    await engine.upload(items);
    for (const item of items) {
      expect(cloud.objects.get(item.name)).toEqual(await bytesOf(item.blob));
      // Once in the batch, once alone after the 403.
      expect(cloud.presignCountFor(item.name)).toBe(2);
      expect(cloud.putCounts.get(item.name)).toBe(1);
    }
  });

  it('gives up with TRANSFER_FORBIDDEN when fresh URLs keep being refused (e.g. a tampered signature)', async () => {
    const cloud = new FakeCloud();
    cloud.fault = (r) => (r.method === 'PUT' ? { status: 403, body: '<Error><Code>SignatureDoesNotMatch</Code></Error>' } : undefined);
    const { engine } = engineFor(cloud, { maxRepresigns: 2 });
    const error = await engine.upload([{ name: objectName(1), blob: randomBlob(10, 1) }]).catch((e: unknown) => e as ServiceError);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error?.code).toBe('TRANSFER_FORBIDDEN');
    expect(error?.details).toMatchObject({ status: 403, s3Code: 'SignatureDoesNotMatch' });
    expect(cloud.presignCountFor(objectName(1))).toBe(3);
    expect(cloud.objects.size).toBe(0);
  });

  it('retries network errors and 5xx with exponential backoff and jitter, within bounds', async () => {
    const cloud = new FakeCloud();
    cloud.fault = (r) => (r.attempt === 0 ? 'network-error' : r.attempt === 1 ? { status: 503 } : r.attempt === 2 ? { status: 500 } : undefined);
    const { engine, delays } = engineFor(cloud, { maxAttempts: 5, random: () => 0.5 });
    await engine.upload([{ name: objectName(2), blob: randomBlob(50, 2) }]);
    expect(cloud.putCounts.get(objectName(2))).toBe(1);
    expect(delays).toEqual([1, 2, 3].map((attempt) => backoffDelay(attempt, TRANSFER_BACKOFF, () => 0.5)));
    expect(delays[0]).toBeGreaterThanOrEqual(TRANSFER_BACKOFF.baseMs / 2);
  });

  it('honours Retry-After from the store', async () => {
    const cloud = new FakeCloud();
    cloud.fault = (r) => (r.attempt === 0 ? { status: 503, headers: { 'Retry-After': '7' } } : undefined);
    const { engine, delays } = engineFor(cloud);
    await engine.upload([{ name: objectName(3), blob: randomBlob(5, 3) }]);
    expect(delays).toEqual([7_000]);
  });

  it('stops retrying after maxAttempts with the last (typed, retryable) error', async () => {
    const cloud = new FakeCloud();
    cloud.fault = () => ({ status: 500 });
    const { engine, delays } = engineFor(cloud, { maxAttempts: 4 });
    const error = await engine.upload([{ name: objectName(4), blob: randomBlob(5, 4) }]).catch((e: unknown) => e as ServiceError);
    expect(error?.code).toBe('TRANSFER_FAILED');
    expect(error?.retryable).toBe(true);
    expect(cloud.requests.filter((r) => r.method === 'PUT')).toHaveLength(4);
    expect(delays).toHaveLength(3);
  });

  it('fails at once with NETWORK_OFFLINE when a network error happens while the device is offline', async () => {
    const cloud = new FakeCloud();
    cloud.fault = () => 'network-error';
    const { engine, delays } = engineFor(cloud, { isOnline: () => false });
    expect(await codeOf(() => engine.upload([{ name: objectName(5), blob: randomBlob(5, 5) }]))).toBe('NETWORK_OFFLINE');
    expect(delays).toEqual([]);
  });

  it('cuts a stalled transfer (no progress) and retries it', async () => {
    const cloud = new FakeCloud();
    cloud.fault = (r) => (r.attempt === 0 ? 'hang' : undefined);
    const { engine } = engineFor(cloud, { stallTimeoutMs: 30 });
    await engine.upload([{ name: objectName(6), blob: randomBlob(5, 6) }]);
    expect(cloud.putCounts.get(objectName(6))).toBe(1);
    expect(cloud.requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  it('a bad token costs one presign request and fails every item with PRESIGN_UNAUTHORIZED', async () => {
    const cloud = new FakeCloud();
    cloud.presignFault = () => new ServiceError('PRESIGN_UNAUTHORIZED', 'unknown token', { status: 401 });
    const { engine } = engineFor(cloud);
    const outcomes = await engine.uploadEach(Array.from({ length: 5 }, (_, i) => ({ name: objectName(i), blob: randomBlob(5, i) })));
    expect(outcomes.map((o) => (o.ok ? 'ok' : (o.error as ServiceError).code))).toEqual(Array(5).fill('PRESIGN_UNAUTHORIZED'));
    expect(cloud.presignCalls).toHaveLength(1);
    expect(cloud.requests).toHaveLength(0);
  });

  it('retries a rate-limited presign after the Retry-After it was given', async () => {
    const cloud = new FakeCloud();
    cloud.presignFault = (call) => (call === 1 ? new ServiceError('RATE_LIMITED', 'slow down', { retryAfterMs: 2_000 }) : undefined);
    const { engine, delays } = engineFor(cloud);
    await engine.upload([{ name: objectName(7), blob: randomBlob(5, 7) }]);
    expect(delays).toEqual([2_000]);
    expect(cloud.objects.has(objectName(7))).toBe(true);
  });

  it('refuses an oversized fragment alone, without presigning it, and uploads the others', async () => {
    const cloud = new FakeCloud({ maxObjectBytes: 100 });
    const { engine } = engineFor(cloud);
    const outcomes = await engine.uploadEach([
      { name: objectName(1), blob: randomBlob(101, 1) },
      { name: objectName(2), blob: randomBlob(100, 2) },
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { code: 'FRAGMENT_TOO_LARGE' } });
    expect(outcomes[1]).toEqual({ ok: true, value: undefined });
    expect(cloud.presignCalls[0]!.objects.map((o) => o.name)).toEqual([objectName(2)]);
  });

  it('downloads in order, verifies SHA-256 and size, and retries a corrupted download', async () => {
    const cloud = new FakeCloud();
    const { engine } = engineFor(cloud);
    const items = Array.from({ length: 6 }, (_, i) => ({ name: objectName(i), blob: randomBlob(200 + i, i) }));
    await engine.upload(items);
    cloud.fault = (r) => (r.method === 'GET' && r.name === objectName(2) && r.attempt === 0 ? 'corrupt' : undefined);
    const digests = await Promise.all(items.map(async (i) => sha256(await bytesOf(i.blob))));
    const blobs = await engine.download(items.map((item, i) => ({ name: item.name, sha256: digests[i], size: item.blob.size })));
    for (const [i, blob] of blobs.entries()) expect(await bytesOf(blob)).toEqual(await bytesOf(items[i]!.blob));
    expect(cloud.requests.filter((r) => r.method === 'GET' && r.name === objectName(2))).toHaveLength(2);
  });

  it('reports CHECKSUM_MISMATCH when every download differs from the catalog', async () => {
    const cloud = new FakeCloud();
    const { engine } = engineFor(cloud, { maxAttempts: 3 });
    await engine.upload([{ name: objectName(1), blob: randomBlob(20, 1) }]);
    cloud.fault = (r) => (r.method === 'GET' ? 'corrupt' : undefined);
    expect(await codeOf(() => engine.download([{ name: objectName(1), sha256: sha256(new Uint8Array(20)) }]))).toBe('CHECKSUM_MISMATCH');
  });

  it('a missing object is FRAGMENT_NOT_IN_CLOUD (not retried); deleting a missing object is fine', async () => {
    const cloud = new FakeCloud();
    const { engine, delays } = engineFor(cloud);
    expect(await codeOf(() => engine.download([{ name: objectName(9) }]))).toBe('FRAGMENT_NOT_IN_CLOUD');
    expect(delays).toEqual([]);
    const outcomes = await engine.deleteEach([objectName(9)]);
    expect(outcomes).toEqual([{ ok: true, value: undefined }]);
  });

  it('cancels by AbortSignal: every item settles as ABORTED and nothing more is sent', async () => {
    const cloud = new FakeCloud();
    cloud.fault = () => 'hang';
    const { engine } = engineFor(cloud);
    const controller = new AbortController();
    const items = Array.from({ length: 8 }, (_, i) => ({ name: objectName(i), blob: randomBlob(10, i) }));
    const running = engine.uploadEach(items, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    const outcomes = await running;
    expect(outcomes.map((o) => (o.ok ? 'ok' : (o.error as { code: string }).code))).toEqual(Array(8).fill('ABORTED'));
    expect(cloud.requests.length).toBeLessThanOrEqual(3);
    expect(await codeOf(() => engine.upload(items, { signal: controller.signal }))).toBe('ABORTED');
  });
});
