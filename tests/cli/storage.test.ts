import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverToSink, PresignStore, type Presigned } from '../../src/cli/storage.js';
import { pseudoRandomBytes } from '../integration/stack-helpers.js';

/** A stand-in store: answers each path with the statuses queued for it (then 200), and keeps what it was sent. */
describe('a worker\'s uploads through presigned URLs (node:http, retried like the presign requests)', () => {
  let server: Server;
  let base = '';
  const queued = new Map<string, number[]>();
  const received = new Map<string, { body: Buffer; headers: IncomingMessage['headers'] }>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = queued.get(req.url!)?.shift() ?? 200;
        if (status === 200) received.set(req.url!, { body: Buffer.concat(chunks), headers: req.headers });
        res.writeHead(status);
        res.end(status === 200 ? '' : '<Error/>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const url = (name: string): Presigned => ({ name, url: `${base}/bucket/${name}?X-Amz-Signature=x`, method: 'PUT', headers: { 'x-amz-checksum-sha256': `sum-of-${name}` } });

  it('every object arrives byte for byte with its signed headers; a 503 and a 429 are retried', async () => {
    const objects = [0, 1, 2].map((i) => ({ name: `obj${i}`, bytes: pseudoRandomBytes(200_000 + i, 70 + i) }));
    queued.set('/bucket/obj1?X-Amz-Signature=x', [503]);
    queued.set('/bucket/obj2?X-Amz-Signature=x', [429, 503]);
    await deliverToSink({ kind: 'urls', urls: objects.map((o) => url(o.name)), attempts: 4, concurrency: 2 }, objects);
    for (const o of objects) {
      const got = received.get(`/bucket/${o.name}?X-Amz-Signature=x`)!;
      expect(got.body.equals(Buffer.from(o.bytes))).toBe(true);
      expect(got.headers['x-amz-checksum-sha256']).toBe(`sum-of-${o.name}`);
      expect(got.headers['content-length']).toBe(String(o.bytes.length));
    }
  });

  it('a 403 is STORAGE_REJECTED at once; a store that keeps failing or cannot be reached is STORAGE_UNAVAILABLE', async () => {
    const one = [{ name: 'denied', bytes: new Uint8Array(10) }];
    queued.set('/bucket/denied?X-Amz-Signature=x', [403, 403]);
    await expect(deliverToSink({ kind: 'urls', urls: [url('denied')], attempts: 3, concurrency: 1 }, one)).rejects.toMatchObject({ code: 'STORAGE_REJECTED', details: { status: 403 } });
    expect(queued.get('/bucket/denied?X-Amz-Signature=x')).toEqual([403]); // not retried

    queued.set('/bucket/down?X-Amz-Signature=x', [500, 500]);
    await expect(deliverToSink({ kind: 'urls', urls: [url('down')], attempts: 2, concurrency: 1 }, [{ name: 'down', bytes: new Uint8Array(10) }])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });

    const closed = { ...url('x'), url: 'http://127.0.0.1:9/bucket/x' };
    await expect(deliverToSink({ kind: 'urls', urls: [closed], attempts: 2, concurrency: 1 }, [{ name: 'x', bytes: new Uint8Array(10) }])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', details: { reason: 'ECONNREFUSED' } });
  });

  it('URLs that do not match the objects are refused before anything is sent', async () => {
    await expect(deliverToSink({ kind: 'urls', urls: [url('a')], attempts: 1, concurrency: 1 }, [{ name: 'b', bytes: new Uint8Array(1) }])).rejects.toMatchObject({ code: 'STORAGE_REJECTED' });
    expect(received.has('/bucket/a?X-Amz-Signature=x')).toBe(false);
  });
});

/** A presign service that answers slowly and counts its requests. */
describe('presigned PUT URLs for records that wait together are asked for in one request', () => {
  let server: Server;
  let endpoint = '';
  const requests: { names: string[] }[] = [];
  let failNext = 0;
  /** Answers to give before the next 200: a status, with a JSON error body or none. */
  const answers: { status: number; body?: string; headers?: Record<string, string> }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { objects } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { objects: { name: string }[] };
        requests.push({ names: objects.map((o) => o.name) });
        setTimeout(() => {
          const answer = answers.shift();
          if (answer) {
            res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
            res.end(answer.body ?? '');
            return;
          }
          if (failNext > 0) {
            failNext--;
            res.writeHead(401, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'Unknown token.' } }));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ urls: objects.map((o) => ({ name: o.name, url: `http://store.invalid/${o.name}`, method: 'PUT', headers: {} })) }));
        }, 30);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/presign`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const record = (r: number) => Array.from({ length: 13 }, (_, j) => ({ name: `r${r}o${j}`, size: 100, sha256: 'x' }));

  it('one record alone is asked for at once; the records queued meanwhile share the next request, each gets its own URLs', async () => {
    requests.length = 0;
    const store = new PresignStore({ url: endpoint, token: 't' });
    const sinks = await Promise.all(Array.from({ length: 6 }, (_, r) => store.sinkFor!(record(r))));
    expect(requests.map((q) => q.names.length)).toEqual([13, 65]);
    for (const [r, sink] of sinks.entries()) {
      expect(sink.kind).toBe('urls');
      if (sink.kind === 'urls') expect(sink.urls.map((u) => u.name)).toEqual(record(r).map((o) => o.name));
    }
  });

  it('at most 256 objects per request; a refused request fails every record that waited for it, the next ones are asked for again', async () => {
    requests.length = 0;
    const store = new PresignStore({ url: endpoint, token: 't' });
    const many = await Promise.all(Array.from({ length: 41 }, (_, r) => store.sinkFor!(record(r))));
    expect(many).toHaveLength(41);
    // 1 alone, then 19 records (247 objects) per request: 40 = 19 + 19 + 2.
    expect(requests.map((q) => q.names.length)).toEqual([13, 247, 247, 26]);
    requests.length = 0;
    failNext = 1;
    const outcome = await Promise.allSettled([store.sinkFor!(record(0)), store.sinkFor!(record(1))]);
    expect(outcome.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect((outcome[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'STORAGE_UNAUTHORIZED' });
  });

  it('the presign request itself (node:http): 429 and 5xx are retried, a refusal names the service\'s code and hint, no answer is STORAGE_UNAVAILABLE', async () => {
    const store = new PresignStore({ url: endpoint, token: 't', attempts: 3 });
    answers.push({ status: 429, headers: { 'retry-after': '0' } }, { status: 503, body: 'not json' });
    const [sink] = await Promise.all([store.sinkFor!(record(7))]);
    expect(sink!.kind === 'urls' && sink!.urls.map((u) => u.name)).toEqual(record(7).map((o) => o.name));
    answers.push({ status: 400, body: JSON.stringify({ error: { code: 'TOO_MANY_OBJECTS', message: 'At most 256 objects per request.', hint: 'Ask in smaller batches.' } }) });
    await expect(store.sinkFor!(record(8))).rejects.toMatchObject({ code: 'STORAGE_REJECTED', message: 'At most 256 objects per request.', hint: 'Ask in smaller batches.', details: { status: 400, serverCode: 'TOO_MANY_OBJECTS' } });
    answers.push({ status: 502 }, { status: 502 }, { status: 502 });
    await expect(store.sinkFor!(record(9))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    const nowhere = new PresignStore({ url: 'http://127.0.0.1:9/api/presign', token: 't', attempts: 2 });
    await expect(nowhere.sinkFor!(record(1))).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', details: { reason: 'ECONNREFUSED' } });
    // The same service through a given fetch (what getMany and deleteMany use) maps a 401 alike.
    failNext = 1;
    await expect(new PresignStore({ url: endpoint, token: 't', fetch }).presign('put', record(2))).rejects.toMatchObject({ code: 'STORAGE_UNAUTHORIZED', details: { status: 401 } });
  });
});
