/**
 * The transfer engine and the outbox against the real stack (presign service + embedded S3 with SigV4
 * checks), in Node through the fetch transport.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecord, protectRecord } from '../../src/core/record.js';
import { TEST_KDF } from '../unit/services/helpers.js';
import { connectTransferEngine } from '../../src/services/cloud-connection.js';
import { createFetchTransport } from '../../src/services/fetch-transport.js';
import type { Transport } from '../../src/services/http-transport.js';
import { ALWAYS_ONLINE } from '../../src/services/online-status.js';
import { OutboxRunner } from '../../src/services/outbox-runner.js';
import { PresignClient, resolveCloudEndpoint } from '../../src/services/presign-client.js';
import { fetchFragments, storeProtectedRecord } from '../../src/services/record-store.js';
import { ServiceError } from '../../src/services/service-error.js';
import { TransferEngine, type Presigner } from '../../src/services/transfer-engine.js';
import { openVaultDb } from '../../src/storage/open-vault-db.js';
import { getFragments } from '../../src/storage/record-repository.js';
import { startStack, type Stack } from '../../server/start.js';
import { bucketReader, pseudoRandomBytes, sha256Base64, tempDir, testObjectName } from './stack-helpers.js';

const ALICE = 'alice-token-0123456789abcdef';
const DEV = 'dev-token-0123456789abcdefgh';
const fetchTransport = createFetchTransport();
const fast = { backoff: { baseMs: 20, maxMs: 200 } };

async function aliceEngine(stack: Stack, extra: { transport?: Transport; presigner?: (p: Presigner) => Presigner; token?: string } = {}) {
  const transport = extra.transport ?? fetchTransport;
  const endpoint = await resolveCloudEndpoint({ origin: stack.appUrl, settings: { presignUrl: `${stack.appUrl}/api/presign`, token: extra.token ?? ALICE }, transport: fetchTransport });
  const client = new PresignClient(endpoint, fetchTransport);
  return new TransferEngine({ presigner: extra.presigner ? extra.presigner(client) : client, transport, ...fast });
}

describe('transfers against the real presign service and S3', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;
  let bucket: ReturnType<typeof bucketReader>;

  beforeAll(async () => {
    const temp = await tempDir('cloud');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      distDir: temp.path,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      tokens: { [ALICE]: 'alice' },
      devToken: DEV,
      rateLimit: { burst: 1_000, perSecond: 100 },
    });
    bucket = bucketReader(`${temp.path}/s3`);
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('uploads fragments and downloads the same bytes; the store holds exactly those objects', async () => {
    const engine = await aliceEngine(stack);
    expect(engine.endpoint.checksumSha256).toBe(true);
    const items = Array.from({ length: 12 }, (_, i) => {
      const bytes = pseudoRandomBytes(1_000 + i * 9_000, i + 1);
      return { name: testObjectName('roundtrip', i), blob: new Blob([bytes as BlobPart]), bytes };
    });
    let last = { done: 0, total: 0 };
    await engine.upload(items, { onProgress: (p) => (last = p) });
    expect(last.done).toBe(items.reduce((a, i) => a + i.bytes.length, 0));
    const downloaded = await engine.download(items.map((i) => ({ name: i.name, sha256: sha256Base64(i.bytes), size: i.bytes.length })));
    for (const [i, blob] of downloaded.entries()) expect(new Uint8Array(await blob.arrayBuffer())).toEqual(items[i]!.bytes);
    const keys = await bucket.list('users/alice/fragments/roundtrip');
    expect(keys.sort()).toEqual(items.map((i) => `users/alice/fragments/${i.name}`).sort());
  });

  it('a bad token is refused with a typed error, before anything is sent to the store', async () => {
    const engine = await aliceEngine(stack, { token: 'not-a-valid-token-at-all' });
    const error = await engine.upload([{ name: testObjectName('badtoken', 1), blob: new Blob(['x']) }]).catch((e: unknown) => e as ServiceError);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error?.code).toBe('PRESIGN_UNAUTHORIZED');
    expect(error?.details).toMatchObject({ status: 401, serverCode: 'INVALID_TOKEN' });
    expect(await bucket.list('users/alice/fragments/badtoken')).toEqual([]);
  });

  it('a tampered signature is refused by the store (403), even after fresh URLs, and nothing is stored', async () => {
    let presigned = 0;
    const tamper = (client: Presigner): Presigner => ({
      endpoint: client.endpoint,
      async presign(operation, objects, signal) {
        presigned += 1;
        const batch = await client.presign(operation, objects, signal);
        return {
          ...batch,
          urls: batch.urls.map((u) => {
            const url = new URL(u.url);
            const signature = url.searchParams.get('X-Amz-Signature')!;
            url.searchParams.set('X-Amz-Signature', (signature.at(0) === '0' ? '1' : '0') + signature.slice(1));
            return { ...u, url: url.href };
          }),
        };
      },
    });
    const engine = await aliceEngine(stack, { presigner: tamper });
    const error = await engine.upload([{ name: testObjectName('tampered', 1), blob: new Blob(['secret ciphertext']) }]).catch((e: unknown) => e as ServiceError);
    expect(error?.code).toBe('TRANSFER_FORBIDDEN');
    expect(error?.details).toMatchObject({ status: 403, s3Code: 'SignatureDoesNotMatch' });
    expect(presigned).toBe(3);
    expect(await bucket.list('users/alice/fragments/tampered')).toEqual([]);
  });

  it('protect → store → outbox (app config + dev token) → another device fetches → opens to the same bytes', async () => {
    const plaintext = pseudoRandomBytes(200_000, 99);
    const record = await protectRecord([plaintext], { kind: 'file', name: 'scan.pdf', mime: 'application/pdf', byteLength: plaintext.length }, 'adk21937', { chunkSize: 16_384, kdf: TEST_KDF, parity: 0 });
    const recordId = record.recordId;
    const phone = await openVaultDb({ name: `integration-phone-${Date.now()}` });
    const result = { envelopeLength: record.envelopeLength, objects: record.objects.map((bytes, slot) => ({ slot, blob: new Blob([bytes as BlobPart]) })) };
    const runner = new OutboxRunner({
      db: phone,
      engine: () => connectTransferEngine({ db: phone, origin: stack.appUrl, transport: fetchTransport, engine: fast }),
      locks: null,
      channelName: null,
      online: ALWAYS_ONLINE,
    });
    const progress: number[] = [];
    runner.on('progress', (p) => progress.push(p.uploaded));
    await storeProtectedRecord(result, recordId, record.recordKey, { db: phone, notify: () => runner.wake() });
    runner.start();
    await runner.whenSettled();
    await runner.stop();
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const names = (await getFragments(phone, recordId)).map((f) => f.objectName);
    // The dev token belongs to user "dev": that prefix holds exactly the record's 8 objects.
    expect((await bucket.list('users/dev/fragments/')).sort()).toEqual(names.map((n) => `users/dev/fragments/${n}`).sort());

    const laptop = await openVaultDb({ name: `integration-laptop-${Date.now()}` });
    const blobs = await fetchFragments(recordId, record.recordKey, 8, { db: laptop, engine: () => connectTransferEngine({ db: laptop, origin: stack.appUrl, transport: fetchTransport }) });
    const opened = await openRecord(await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer()))), 'adk21937', record.recordKey, recordId);
    expect(opened.body).toEqual(plaintext);
    expect(opened.metadata.name).toBe('scan.pdf');
  });
});

describe('an expired presigned URL', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    const temp = await tempDir('expiry');
    dataDir = `${temp.path}/s3`;
    removeTemp = temp.remove;
    stack = await startStack({ appPort: 0, distDir: temp.path, localS3: { port: 0, dataDir: `${temp.path}/s3` }, tokens: { [ALICE]: 'alice' }, presignExpiresSeconds: 1 });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it('is re-presigned and the upload succeeds', async () => {
    // The first PUT leaves only after its URL (1 s lifetime) has expired, as on a slow uplink.
    let held = false;
    const slowStart: Transport = {
      async send(request, options) {
        if (request.method === 'PUT' && !held) {
          held = true;
          await new Promise((resolve) => setTimeout(resolve, 2_200));
        }
        return fetchTransport.send(request, options);
      },
    };
    const engine = await aliceEngine(stack, { transport: slowStart });
    const name = testObjectName('expiry', 1);
    const bytes = pseudoRandomBytes(5_000, 5);
    await engine.upload([{ name, blob: new Blob([bytes as BlobPart]) }]);
    expect(engine.presignCounts.get(name)).toBeGreaterThanOrEqual(2);
    expect(await bucketReader(dataDir).read(`users/alice/fragments/${name}`)).toEqual(bytes);
  });
});
