/**
 * Bounded load test of the presign service on loopback: LOAD_REQUESTS presign requests (default 2,000) of
 * LOAD_OBJECTS objects each (default 1; `npm run test:load` uses 8, one record's fragments),
 * LOAD_CONCURRENCY at a time (default 20), spread over 4 users with a rate limit high enough not to
 * interfere. It prints requests/s and latency percentiles (client and server share this process, so they
 * are figures for comparison, not a benchmark), and asserts only outcomes: every request answered 200 with
 * one URL per object, each inside its user's prefix, and the service healthy afterwards.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { fragmentName, makeTempDir, putFields, type PresignResponse } from './helpers.js';

function envInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

const REQUESTS = envInteger('LOAD_REQUESTS', 2_000);
const CONCURRENCY = envInteger('LOAD_CONCURRENCY', 20);
const OBJECTS = envInteger('LOAD_OBJECTS', 1);
const USERS = ['load-user-a-0123456789', 'load-user-b-0123456789', 'load-user-c-0123456789', 'load-user-d-0123456789'] as const;

/** POST over a keep-alive agent (lighter than fetch, so the figures are mostly the server's). */
function post(agent: Agent, url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: '/api/presign', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('presign service under load (loopback, bounded)', () => {
  let stack: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('load');
    removeTemp = temp.remove;
    stack = await startStack({
      appPort: 0,
      localS3: { port: 0, dataDir: `${temp.path}/s3` },
      distDir: temp.path,
      tokens: Object.fromEntries(USERS.map((token, i) => [token, `loaduser${i}`])),
      rateLimit: { burst: REQUESTS + 1, perSecond: 1_000_000 },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it(
    `${REQUESTS} presign requests of ${OBJECTS} objects at concurrency ${CONCURRENCY}: zero errors`,
    async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      const url = new URL(stack.appUrl);
      const latencies: number[] = [];
      const errors: string[] = [];
      let next = 0;
      let urls = 0;

      async function worker(): Promise<void> {
        for (let i = next++; i < REQUESTS; i = next++) {
          const token = USERS[i % USERS.length]!;
          const names = Array.from({ length: OBJECTS }, () => fragmentName());
          const body = JSON.stringify({ operation: i % 2 === 0 ? 'put' : 'get', objects: names.map((name) => (i % 2 === 0 ? { name, ...putFields() } : { name })) });
          const started = performance.now();
          try {
            const { status, text } = await post(agent, url, token, body);
            latencies.push(performance.now() - started);
            if (status !== 200) {
              errors.push(`#${i}: ${status} ${text.slice(0, 120)}`);
              continue;
            }
            const result = JSON.parse(text) as PresignResponse;
            const prefix = `/ehr-vault/users/loaduser${i % USERS.length}/fragments/`;
            const wrong = result.urls.filter((u, k) => u.name !== names[k] || new URL(u.url).pathname !== prefix + names[k]);
            if (result.urls.length !== OBJECTS || wrong.length > 0) errors.push(`#${i}: ${result.urls.length} URLs, ${wrong.length} outside ${prefix}`);
            urls += result.urls.length;
          } catch (error) {
            latencies.push(performance.now() - started);
            errors.push(`#${i}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }

      const started = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
      const seconds = (performance.now() - started) / 1000;
      agent.destroy();
      const sorted = latencies.slice().sort((a, b) => a - b);
      const ms = (value: number) => value.toFixed(1);
      console.log(
        `[load] ${REQUESTS} requests × ${OBJECTS} objects, concurrency ${CONCURRENCY}: ${(REQUESTS / seconds).toFixed(0)} req/s ` +
          `(${(urls / seconds).toFixed(0)} URLs/s) in ${seconds.toFixed(2)} s; latency p50 ${ms(percentile(sorted, 50))} ms, ` +
          `p90 ${ms(percentile(sorted, 90))} ms, p99 ${ms(percentile(sorted, 99))} ms, max ${ms(sorted.at(-1) ?? Number.NaN)} ms; errors ${errors.length}`,
      );

      expect(errors.slice(0, 5)).toEqual([]);
      expect(latencies).toHaveLength(REQUESTS);
      expect(urls).toBe(REQUESTS * OBJECTS);
      expect((await fetch(`${stack.appUrl}/api/health`)).status).toBe(200);
    },
    Math.max(60_000, REQUESTS * 30),
  );
});
