/**
 * A fault-injecting HTTP proxy for tests (not a test file): sits in front of the local S3 and, per
 * request, passes it, drops the connection before or after the store saw it, answers 500/503, delays
 * it, or stalls it. Decisions are a hash of (seed, method, path, attempt number), so a run is
 * reproducible whatever order concurrent requests arrive in, and every object is let through after
 * `maxFaultsPerKey` faults, so the test is bounded. Only listens on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = 'pass' | 'drop-before' | 'drop-after' | 'status-500' | 'status-503' | 'delay' | 'stall';

export interface FaultProxyOptions {
  /**
   * http://127.0.0.1:port of the store, or a function giving it once known (the embedded store must be
   * told the proxy's address first: it answers only to its own Host and the ones it is given).
   */
  readonly target: string | (() => string);
  readonly seed: number;
  /** Share of requests that get a fault (default 0.5). */
  readonly faultRate?: number;
  readonly maxFaultsPerKey?: number;
  /** How long a stalled request is held before its connection is cut. */
  readonly stallMs?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly stats: Record<FaultKind, number>;
  close(): Promise<void>;
}

const FAULTS: readonly Exclude<FaultKind, 'pass'>[] = ['drop-before', 'drop-after', 'status-500', 'status-503', 'delay', 'stall'];

function unit(seed: number, key: string, attempt: number, salt: string): number {
  return createHash('sha256').update(`${seed}|${key}|${attempt}|${salt}`).digest().readUInt32BE(0) / 2 ** 32;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = () => new URL(typeof options.target === 'string' ? options.target : options.target());
  const faultRate = options.faultRate ?? 0.5;
  const maxFaults = options.maxFaultsPerKey ?? 4;
  const stallMs = options.stallMs ?? 3_000;
  const attempts = new Map<string, number>();
  const stats: Record<FaultKind, number> = { pass: 0, 'drop-before': 0, 'drop-after': 0, 'status-500': 0, 'status-503': 0, delay: 0, stall: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const wait = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      resolve();
    }, ms);
    timers.add(timer);
  });

  function decide(req: IncomingMessage): FaultKind {
    // The path without the query: a re-presigned URL for the same object is the same key.
    const key = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    const attempt = attempts.get(key) ?? 0;
    attempts.set(key, attempt + 1);
    if (req.method === 'OPTIONS' || attempt >= maxFaults || unit(options.seed, key, attempt, 'rate') >= faultRate) return 'pass';
    return FAULTS[Math.floor(unit(options.seed, key, attempt, 'kind') * FAULTS.length)]!;
  }

  /** Forwards unchanged (Host included: it is part of the SigV4 signature) and returns the store's answer. */
  function forward(req: IncomingMessage): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const { hostname, port } = target();
      const upstream = httpRequest({ host: hostname, port, method: req.method, path: req.url, headers: req.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fault = decide(req);
    stats[fault] += 1;
    switch (fault) {
      case 'drop-before':
        req.socket.destroy();
        return;
      case 'status-500':
      case 'status-503':
        req.resume();
        res.writeHead(fault === 'status-500' ? 500 : 503, { 'content-type': 'application/xml', connection: 'close' });
        res.end(`<Error><Code>${fault === 'status-500' ? 'InternalError' : 'SlowDown'}</Code></Error>`);
        return;
      case 'stall':
        req.resume();
        await wait(stallMs);
        req.socket.destroy();
        return;
      case 'delay':
        await wait(50 + Math.floor(unit(options.seed, req.url ?? '', 0, 'delay') * 250));
        break;
      default:
        break;
    }
    const answer = await forward(req);
    if (fault === 'drop-after') {
      // The store has done the work (stored the object); the client never hears of it.
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: async () => {
      timers.forEach(clearTimeout);
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
