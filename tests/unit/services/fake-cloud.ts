/**
 * An in-memory presign service + object store behind the engine's two seams (Presigner, Transport), with
 * fault hooks. Not a test file. It behaves like the reference server and S3 where the engine can tell:
 * 403 with an S3 error document for expired URLs, 404 for missing objects, signed headers enforced.
 */
import { createHash } from 'node:crypto';
import { AbortedError } from '../../../src/core/errors.js';
import type { Transport, TransportOptions, TransportRequest, TransportResponse } from '../../../src/services/http-transport.js';
import type { CloudEndpoint, PresignedBatch, PresignObject, PresignOperation } from '../../../src/services/presign-client.js';
import { ServiceError } from '../../../src/services/service-error.js';
import type { Presigner } from '../../../src/services/transfer-engine.js';

export type Fault = 'network-error' | 'hang' | { status: number; body?: string; headers?: Record<string, string> } | 'corrupt' | undefined;

export interface SeenRequest {
  readonly method: string;
  readonly name: string;
  readonly generation: number;
  /** How many requests for this method+name came before this one. */
  readonly attempt: number;
}

const s3Error = (code: string, message: string) => `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

export class FakeCloud {
  readonly objects = new Map<string, Uint8Array>();
  /** Successful PUTs per object name. */
  readonly putCounts = new Map<string, number>();
  readonly requests: SeenRequest[] = [];
  readonly presignCalls: { operation: PresignOperation; objects: PresignObject[] }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private generation = 0;
  private readonly attempts = new Map<string, number>();
  /** URLs of these presign generations answer 403 "Request has expired". */
  expired: (generation: number) => boolean = () => false;
  fault: (request: SeenRequest) => Fault = () => undefined;
  presignFault: (call: number) => ServiceError | undefined = () => undefined;
  readonly endpoint: CloudEndpoint;

  constructor(endpoint: Partial<CloudEndpoint> = {}) {
    this.endpoint = {
      presignUrl: 'https://presign.test/api/presign',
      token: 'token-for-tests',
      checksumSha256: true,
      maxObjectsPerRequest: 256,
      maxObjectBytes: 1 << 20,
      ...endpoint,
    };
    (this.presigner as { endpoint: CloudEndpoint }).endpoint = this.endpoint;
  }

  readonly presigner: Presigner = {
    endpoint: undefined as unknown as CloudEndpoint, // set in the constructor (field initialisers run first)
    presign: async (operation, objects) => {
      const call = this.presignCalls.push({ operation, objects: [...objects] });
      const failure = this.presignFault(call);
      if (failure) throw failure;
      this.generation += 1;
      const method = ({ put: 'PUT', get: 'GET', head: 'HEAD', delete: 'DELETE' } as const)[operation];
      const batch: PresignedBatch = {
        expiresAt: Date.now() + 900_000,
        urls: objects.map((o) => ({
          name: o.name,
          method,
          url: `https://s3.test/bucket/users/dev/fragments/${o.name}?g=${this.generation}${o.size !== undefined ? `&size=${o.size}` : ''}`,
          headers: (operation === 'put' && o.sha256 !== undefined ? { 'x-amz-checksum-sha256': o.sha256 } : {}) as Record<string, string>,
        })),
      };
      return batch;
    },
  };

  presignCountFor(name: string): number {
    return this.presignCalls.reduce((n, call) => n + call.objects.filter((o) => o.name === name).length, 0);
  }

  readonly transport: Transport = {
    send: async (request: TransportRequest, options: TransportOptions = {}): Promise<TransportResponse> => {
      const url = new URL(request.url);
      const name = url.pathname.split('/').pop()!;
      const generation = Number(url.searchParams.get('g'));
      const key = `${request.method} ${name}`;
      const attempt = this.attempts.get(key) ?? 0;
      this.attempts.set(key, attempt + 1);
      const seen: SeenRequest = { method: request.method, name, generation, attempt };
      this.requests.push(seen);
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        // Let other requests start, so concurrency is observable.
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (options.signal?.aborted) throw new AbortedError(options.signal.reason);
        const fault = this.fault(seen);
        if (fault === 'network-error') throw new ServiceError('NETWORK_ERROR', 'connection reset (fake)');
        if (fault === 'hang') {
          await new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(new AbortedError(options.signal?.reason)), { once: true }));
        }
        if (typeof fault === 'object') return respond(fault.status, fault.body ?? '', fault.headers);
        if (this.expired(generation)) return respond(403, s3Error('AccessDenied', 'Request has expired'));
        const body = request.body instanceof Blob ? new Uint8Array(await request.body.arrayBuffer()) : new Uint8Array(0);
        if (request.method === 'PUT') {
          const size = url.searchParams.get('size');
          if (size !== null && Number(size) !== body.length) return respond(403, s3Error('SignatureDoesNotMatch', 'length'));
          const signed = request.headers?.['x-amz-checksum-sha256'];
          if (signed !== undefined && signed !== sha256(body)) return respond(400, s3Error('BadDigest', 'digest'));
          options.onUploadProgress?.(Math.floor(body.length / 2), body.length);
          options.onUploadProgress?.(body.length, body.length);
          this.objects.set(name, body);
          this.putCounts.set(name, (this.putCounts.get(name) ?? 0) + 1);
          return respond(200, '');
        }
        if (request.method === 'GET') {
          const stored = this.objects.get(name);
          if (!stored) return respond(404, s3Error('NoSuchKey', 'missing'));
          let bytes = stored;
          if (fault === 'corrupt') {
            bytes = stored.slice();
            bytes[0] = (bytes[0] ?? 0) ^ 1;
          }
          options.onDownloadProgress?.(bytes.length, bytes.length);
          return respond(200, bytes);
        }
        if (request.method === 'DELETE') {
          this.objects.delete(name);
          return respond(204, '');
        }
        return respond(405, '');
      } finally {
        this.inFlight -= 1;
      }
    },
  };
}

function respond(status: number, body: string | Uint8Array, headers: Record<string, string> = {}): TransportResponse {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { status, header: (name) => lower[name.toLowerCase()] ?? null, body: new Blob([body as BlobPart]) };
}

/** A sleep that records what it was asked to wait and waits only a tick (tests assert bounds, not time). */
export function recordingSleep(): { sleep: (ms: number, signal?: AbortSignal) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms, signal) => {
      delays.push(ms);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (signal?.aborted) throw new AbortedError(signal.reason);
    },
  };
}

export function randomBlob(size: number, seed: number): Blob {
  const bytes = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return new Blob([bytes]);
}

export function objectName(i: number): string {
  return `frag${String(i).padStart(4, '0')}aaaaaaaaaaaaaaaaaaaaaaaa`.slice(0, 32);
}
