import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Slow-client guards of the app + API server. */
export interface HttpTimeouts {
  /** The request headers must arrive within this time (else 408 and the connection is closed). */
  headersMs: number;
  /** The whole request, headers and body, must arrive within this time (else 408 and close). */
  requestMs: number;
  /** An idle keep-alive connection is closed after this time. */
  keepAliveMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 5_000 };

/**
 * How often Node checks the two request timeouts. Node's default (30 s) lets a slow client hold a
 * connection for up to timeout + 30 s; checking every second keeps the limits close to what they say.
 */
function checkingIntervalMs(timeouts: HttpTimeouts): number {
  return Math.max(50, Math.min(1_000, Math.floor(timeouts.headersMs / 4)));
}

/** Listens on host:port (0 = any free port) and resolves with the bound port. */
export function listen(handler: RequestHandler, host: string, port: number, timeouts: HttpTimeouts = DEFAULT_HTTP_TIMEOUTS): Promise<{ server: Server; port: number }> {
  const server = createServer(
    {
      // Slow-loris guard: headers within headersMs, the whole request (headers + body) within requestMs.
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: checkingIntervalMs(timeouts),
    },
    (req, res) => {
      Promise.resolve(handler(req, res)).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end();
      });
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}

/** Stops accepting connections and drops idle keep-alive sockets so close() does not hang. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
    // Give in-flight responses a moment, then cut whatever is left.
    setTimeout(() => server.closeAllConnections(), 1_000).unref();
  });
}
