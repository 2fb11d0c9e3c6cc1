/**
 * Raw HTTP over a socket for the hardening tests (not a test file itself): fetch() normalises paths,
 * refuses odd methods and always finishes its requests, which is exactly what these tests must not do.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  /** Status code of the first response, or undefined if the server closed without answering. */
  readonly status: number | undefined;
  /** Everything the server sent, as latin1 text. */
  readonly text: string;
  /** The body of the first response (after the blank line). */
  readonly body: string;
  /** Header lines of the first response, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
}

function parse(text: string): RawResponse {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  const end = text.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of text.slice(0, end < 0 ? text.length : end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: match ? Number(match[1]) : undefined, text, body: end < 0 ? '' : text.slice(end + 4), headers };
}

/** Sends `request` verbatim and collects what the server sends until it closes the connection. */
export function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answer is still an answer.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve(parse(Buffer.concat(chunks).toString('latin1')));
      else reject(error);
    });
    socket.on('close', () => resolve(parse(Buffer.concat(chunks).toString('latin1'))));
  });
}

/** A request line plus headers, with `Connection: close` so the server ends the exchange. */
export function requestText(method: string, path: string, host: string, headers: Record<string, string> = {}, body = ''): string {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * A client that sends `start`, then `trickle` every `everyMs` for as long as the connection is open
 * (a slow-loris client). `closed` resolves with what the server sent once it closes the connection.
 */
export interface SlowClient {
  readonly closed: Promise<RawResponse>;
  destroy(): void;
}

export function slowClient(port: number, start: string, trickle?: { data: string; everyMs: number }): SlowClient {
  let socket: Socket | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const closed = new Promise<RawResponse>((resolve) => {
    const chunks: Buffer[] = [];
    socket = connect(port, '127.0.0.1', () => {
      if (start !== '') socket!.write(start);
      if (trickle) {
        timer = setInterval(() => {
          if (socket!.writable) socket!.write(trickle.data);
        }, trickle.everyMs);
      }
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve(parse(Buffer.concat(chunks).toString('latin1')));
    });
  });
  return {
    closed,
    destroy: () => {
      clearInterval(timer);
      socket?.destroy();
    },
  };
}
