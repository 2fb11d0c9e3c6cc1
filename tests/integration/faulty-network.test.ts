/**
 * Many fragments through a hostile network: a proxy in front of the local S3 drops connections (before
 * and after the store acted), answers 500/503, delays and stalls requests. Every fragment must still
 * end up stored exactly once under its own name, byte for byte (SHA-256), and download intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchTransport } from '../../src/services/fetch-transport.js';
import { PresignClient, resolveCloudEndpoint } from '../../src/services/presign-client.js';
import { TransferEngine } from '../../src/services/transfer-engine.js';
import { startStack, type Stack } from '../../server/start.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { bucketReader, pseudoRandomBytes, sha256Base64, tempDir, testObjectName } from './stack-helpers.js';

const ALICE = 'alice-token-0123456789abcdef';
const COUNT = 40;

describe('transfers through a fault-injecting proxy', () => {
  let store: Stack;
  let app: Stack;
  let proxy: FaultProxy;
  let dataDir: string;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await tempDir('faults');
    removeTemp = temp.remove;
    dataDir = `${temp.path}/s3`;
    // The embedded S3 comes from one stack; the presign service under test signs URLs for the proxy
    // (an "external" store), so every object request crosses the proxy, which forwards it unchanged.
    proxy = await startFaultProxy({ target: () => store.s3Url, seed: 20_240_601, faultRate: 0.5, maxFaultsPerKey: 4, stallMs: 3_000 });
    store = await startStack({ appPort: 0, distDir: temp.path, localS3: { port: 0, dataDir, extraHosts: [new URL(proxy.url).host] }, tokens: { 'unused-token-0123456789': 'nobody' } });
    app = await startStack({
      appPort: 0,
      distDir: temp.path,
      s3: { endpoint: proxy.url, region: 'us-east-1', ...store.s3Credentials!, forcePathStyle: true },
      tokens: { [ALICE]: 'alice' },
      rateLimit: { burst: 1_000, perSecond: 100 },
    });
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await store?.close();
    await removeTemp?.();
  });

  it(`${COUNT} fragments: each stored exactly once, verified by SHA-256, and downloaded intact`, async () => {
    const transport = createFetchTransport();
    const endpoint = await resolveCloudEndpoint({ origin: app.appUrl, settings: { presignUrl: `${app.appUrl}/api/presign`, token: ALICE }, transport });
    const engine = new TransferEngine({
      presigner: new PresignClient(endpoint, transport),
      transport,
      concurrency: 3,
      // The proxy lets an object through after at most 4 faults, so 6 attempts always suffice.
      maxAttempts: 6,
      backoff: { baseMs: 20, maxMs: 200 },
      stallTimeoutMs: 500,
    });
    const fragments = Array.from({ length: COUNT }, (_, i) => {
      const bytes = pseudoRandomBytes(1_024 + ((i * 7_919) % 47_000), 1_000 + i);
      return { name: testObjectName('faulty', i), bytes, sha256: sha256Base64(bytes) };
    });

    await engine.upload(fragments.map((f) => ({ name: f.name, blob: new Blob([f.bytes as BlobPart]), sha256: f.sha256 })));

    // The bucket, read directly: exactly these objects, each once, each with the right bytes.
    const bucket = bucketReader(dataDir);
    const keys = await bucket.list('users/alice/fragments/');
    expect(keys).toEqual(fragments.map((f) => `users/alice/fragments/${f.name}`).sort());
    expect(new Set(keys).size).toBe(COUNT);
    for (const f of fragments) expect(sha256Base64(await bucket.read(`users/alice/fragments/${f.name}`))).toBe(f.sha256);

    // Downloads cross the same faulty proxy and are checked against the digests.
    const blobs = await engine.download(fragments.map((f) => ({ name: f.name, sha256: f.sha256, size: f.bytes.length })));
    for (const [i, blob] of blobs.entries()) expect(sha256Base64(new Uint8Array(await blob.arrayBuffer()))).toBe(fragments[i]!.sha256);

    // Every kind of fault really happened.
    for (const kind of ['drop-before', 'drop-after', 'status-500', 'status-503', 'delay', 'stall'] as const) {
      expect(proxy.stats[kind], kind).toBeGreaterThan(0);
    }
  });
});
