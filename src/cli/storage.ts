import { renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { inOrder } from '../core/ordered.js';
import { CliError, ioError, usage } from './errors.js';

/** Where sealed objects live: the presign service's store, or a local folder (air-gapped runs, tests, bench). */
export interface ObjectStore {
  readonly description: string;
  /** Bytes of each name, or undefined for a name the store does not hold. */
  getMany(names: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Whether `putMany` needs each object's SHA-256 (the presign service binds it into the URL). A folder does
   * not: the workers then skip that pass over every byte (docs/CLI.md, throughput).
   */
  readonly needsDigests?: boolean;
  /** Writes every object; `sha256` is base64 of the bytes' SHA-256 (empty when `needsDigests` is false). */
  putMany(objects: readonly { name: string; bytes: Uint8Array; sha256: string }[]): Promise<void>;
  deleteMany(names: readonly string[]): Promise<void>;
  /**
   * Where a protect worker may put a record's objects itself (`deliverToSink`), so their bytes never cross to
   * this thread: a folder, or the presigned PUT URLs asked for here (the token stays in this thread). Absent:
   * the objects come here and go through `putMany`.
   */
  sinkFor?(objects: readonly { name: string; size: number; sha256: string }[]): Promise<WorkerSink>;
}

/** What a worker needs to store objects without the store object (plain data: it crosses threads). */
export type WorkerSink =
  | { readonly kind: 'folder'; readonly dir: string }
  | { readonly kind: 'urls'; readonly urls: readonly Presigned[]; readonly attempts: number; readonly concurrency: number };

/** Stores objects as `sink` says (in a protect worker, or in this thread for records sealed here). */
export async function deliverToSink(sink: WorkerSink, objects: readonly { name: string; bytes: Uint8Array }[]): Promise<void> {
  if (sink.kind === 'folder') {
    writeObjectsSync(sink.dir, objects);
    return;
  }
  if (sink.urls.length !== objects.length || sink.urls.some((u, i) => u.name !== objects[i]!.name)) throw new CliError('STORAGE_REJECTED', 'The presigned URLs do not match the objects.', 'Please report this.');
  await mapLimit(sink.urls, sink.concurrency, (u, i) => putObject(u, objects[i]!.bytes, sink.attempts));
}

/** How long an upload may stall (no bytes either way) before it counts as a network failure and is retried. */
const UPLOAD_IDLE_MS = 120_000;

/**
 * One presigned PUT through node:http(s), retried on transient failures as `transferObject` is. Not fetch:
 * undici spent about twice the CPU per MiB uploaded on this machine (a 1.6 MB PUT to a local sink: ≈ 1.6–2.8
 * against 0.8–1.0 ms per MiB, client and server together), and the objects are most of what a run sends.
 * The global agent keeps connections alive (Node ≥ 19).
 */
async function putObject(url: Presigned, body: Uint8Array, attempts: number): Promise<void> {
  const target = new URL(url.url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  await retrying(`${url.method} ${url.name}`, attempts, () =>
    new Promise<void>((resolve, reject) => {
      const request = send(target, { method: url.method, headers: { ...url.headers, 'content-length': String(body.length) } }, (response) => {
        const status = response.statusCode ?? 0;
        response.resume();
        response.on('error', (error) => reject(new Transient(error.message)));
        response.on('end', () => {
          if (status >= 200 && status <= 299) resolve();
          else if (status >= 500 || status === 408 || status === 429) reject(new Transient(`${status} from the store`));
          else reject(new CliError('STORAGE_REJECTED', `The store refused ${url.method} of an object (${status}).`, status === 403 ? 'The presigned URL expired or the store refused its signature; run the command again.' : 'Check the store configuration.', { status, name: url.name }));
        });
      });
      request.setTimeout(UPLOAD_IDLE_MS, () => request.destroy(new Error(`no progress for ${UPLOAD_IDLE_MS / 1000} s`)));
      request.on('error', (error: NodeJS.ErrnoException) => reject(new Transient(error.code ?? error.message)));
      request.end(body);
    }),
  );
}

/** Writes each object whole, then renames it: a killed run never leaves a half object under a real name. */
async function writeObjects(dir: string, objects: readonly { name: string; bytes: Uint8Array }[]): Promise<void> {
  await Promise.all(
    objects.map(async (o) => {
      const path = join(dir, o.name);
      try {
        await writeFile(`${path}.part`, o.bytes);
        await rename(`${path}.part`, path);
      } catch (error) {
        throw ioError('OUTPUT_FAILED', path, error);
      }
    }),
  );
}

/**
 * `writeObjects` in the calling thread: a protect worker has nothing else to do meanwhile, and 2 asynchronous
 * calls per object through the libuv pool (26 for a record of 11 + 2 objects) cost more than the writes of
 * a small record (bench:cli).
 */
function writeObjectsSync(dir: string, objects: readonly { name: string; bytes: Uint8Array }[]): void {
  for (const o of objects) {
    const path = join(dir, o.name);
    try {
      writeFileSync(`${path}.part`, o.bytes);
      renameSync(`${path}.part`, path);
    } catch (error) {
      throw ioError('OUTPUT_FAILED', path, error);
    }
  }
}

export interface PresignOptions {
  /** POST …/api/presign, or the app's address (then /api/presign is appended). */
  readonly url: string;
  readonly token: string;
  /** Requests at once (uploads and downloads). */
  readonly concurrency?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** Attempts per request on 429, 5xx and network errors. */
  readonly attempts?: number | undefined;
}

export interface Presigned {
  readonly name: string;
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
}

const MAX_PER_REQUEST = 256;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function presignEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usage(`--storage ${url} is not a URL.`, 'Give the presign service URL, e.g. https://vault.example.org/api/presign.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usage(`--storage ${url} is not an http(s) URL.`);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/api/presign';
  return parsed.href;
}

/** Runs `work` over `items` with at most `limit` at once; results in input order (core/ordered.ts). */
export function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  return inOrder(items.length, limit, (index) => work(items[index]!, index), { stopOnFailure: true });
}

/** A retryable failure: the network, a 5xx, a 429 or a 408. */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Runs `work`, again after a pause on a transient failure, up to `attempts` times. */
async function retrying<R>(what: string, attempts: number, work: () => Promise<R>): Promise<R> {
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof Transient) || attempt >= attempts) {
        if (error instanceof Transient) {
          throw new CliError('STORAGE_UNAVAILABLE', `The storage did not answer ${what} (${error.message}).`, 'Check the network and the presign service, then run the command again (protect resumes where it stopped).', { reason: error.message });
        }
        throw error;
      }
      await sleep(error.retryAfterMs ?? delay + Math.random() * delay);
      delay = Math.min(delay * 2, 8_000);
    }
  }
}

async function send(fetchImpl: typeof fetch, url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (error) {
    throw new Transient(error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error));
  }
}

/** One presigned GET, PUT or DELETE, retried on transient failures; a GET's bytes, undefined for a 404. */
async function transferObject(fetchImpl: typeof fetch, attempts: number, url: Presigned, body?: Uint8Array): Promise<Uint8Array | undefined> {
  return retrying(`${url.method} ${url.name}`, attempts, async () => {
    const response = await send(fetchImpl, url.url, { method: url.method, headers: url.headers, ...(body ? { body: body as BodyInit } : {}) });
    if (response.status === 404 && url.method !== 'PUT') {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      await response.body?.cancel();
      throw new Transient(`${response.status} from the store`);
    }
    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel();
      throw new CliError('STORAGE_REJECTED', `The store refused ${url.method} of an object (${response.status}).`, response.status === 403 ? 'The presigned URL expired or the store refused its signature; run the command again.' : 'Check the store configuration.', { status: response.status, name: url.name });
    }
    if (url.method === 'GET') return new Uint8Array(await response.arrayBuffer());
    await response.body?.cancel();
    return undefined;
  });
}

export class PresignStore implements ObjectStore {
  readonly description: string;
  private readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;
  private readonly concurrency: number;
  private readonly attempts: number;

  constructor(private readonly options: PresignOptions) {
    this.endpoint = presignEndpoint(options.url);
    this.description = this.endpoint;
    this.fetchImpl = options.fetch ?? fetch;
    this.concurrency = options.concurrency ?? 8;
    this.attempts = options.attempts ?? 6;
    if (!options.fetch) this.sinkFor = async (objects) => ({ kind: 'urls', urls: await this.presignPutsTogether(objects), attempts: this.attempts, concurrency: this.concurrency });
  }

  private readonly putQueue: { objects: readonly { name: string; size: number; sha256: string }[]; resolve: (urls: Presigned[]) => void; reject: (error: unknown) => void }[] = [];
  private putting = false;

  /**
   * PUT URLs for one record, asked for together with those of the records that wait meanwhile: one request
   * at a time, each for every record queued while the one before was answered (up to 256 objects). A run of
   * small records made one presign request per record (13 URLs): on this machine ≈ 1.4 ms of the main
   * thread's CPU each, and as much for the service. Alone, a record is asked for at once.
   */
  private presignPutsTogether(objects: readonly { name: string; size: number; sha256: string }[]): Promise<Presigned[]> {
    return new Promise<Presigned[]>((resolve, reject) => {
      this.putQueue.push({ objects, resolve, reject });
      if (!this.putting) void this.drainPuts();
    });
  }

  private async drainPuts(): Promise<void> {
    this.putting = true;
    try {
      while (this.putQueue.length > 0) {
        const batch: typeof this.putQueue = [];
        let count = 0;
        while (this.putQueue.length > 0 && (batch.length === 0 || count + this.putQueue[0]!.objects.length <= MAX_PER_REQUEST)) {
          const next = this.putQueue.shift()!;
          batch.push(next);
          count += next.objects.length;
        }
        try {
          const urls = await this.presign('put', batch.flatMap((r) => r.objects));
          let at = 0;
          for (const r of batch) {
            r.resolve(urls.slice(at, at + r.objects.length));
            at += r.objects.length;
          }
        } catch (error) {
          for (const r of batch) r.reject(error);
        }
      }
    } finally {
      this.putting = false;
    }
  }

  async presign(operation: 'put' | 'get' | 'delete', objects: readonly { name: string; size?: number; sha256?: string }[]): Promise<Presigned[]> {
    const out: Presigned[] = [];
    for (let at = 0; at < objects.length; at += MAX_PER_REQUEST) {
      const batch = objects.slice(at, at + MAX_PER_REQUEST);
      // size and sha256 on every put: the presign service binds them into the URL (issue 14 makes them required).
      const body = JSON.stringify({ operation, objects: batch.map((o) => (operation === 'put' ? { name: o.name, sha256: o.sha256, size: o.size } : { name: o.name })) });
      const urls = await retrying('the presign request', this.attempts, async () => {
        const response = await this.post(body);
        const json = response.json as { urls?: Presigned[]; error?: { code?: string; message?: string; hint?: string } } | undefined;
        if (response.status === 200 && Array.isArray(json?.urls) && json.urls.length === batch.length && json.urls.every((u, i) => u.name === batch[i]!.name)) return json.urls;
        const server = json?.error;
        const details = { status: response.status, ...(server?.code ? { serverCode: server.code } : {}) };
        const message = server?.message ?? `The presign service answered ${response.status}.`;
        if (response.status === 429) throw new Transient(message, Number(response.retryAfter ?? '1') * 1000);
        if (response.status >= 500 || response.status === 408) throw new Transient(message);
        if (response.status === 401) throw new CliError('STORAGE_UNAUTHORIZED', message, 'Check the token (--token or EHRV_TOKEN).', details);
        if (response.status === 200) throw new CliError('STORAGE_REJECTED', 'The presign service answered with URLs for other names.', 'Check --storage points at an EHR Vault presign service.', details);
        throw new CliError('STORAGE_REJECTED', message, server?.hint ?? 'Check --storage and the request limits of the presign service.', details);
      });
      out.push(...urls);
    }
    return out;
  }

  /**
   * One POST to the presign service: through node:http(s) unless a test gave its own fetch. Not fetch by
   * default: undici's first request costs a run ≈ 40 ms (25 ms of CPU) to load, and each one ≈ 0.7 ms of
   * the main thread's CPU (bench:cli profile), where node:http takes a fraction of it.
   */
  private async post(body: string): Promise<{ status: number; json: unknown; retryAfter: string | undefined }> {
    const headers = { authorization: `Bearer ${this.options.token}`, 'content-type': 'application/json' };
    if (this.options.fetch) {
      const response = await send(this.fetchImpl, this.endpoint, { method: 'POST', headers, body });
      return { status: response.status, json: await response.json().catch(() => undefined), retryAfter: response.headers.get('retry-after') ?? undefined };
    }
    const target = new URL(this.endpoint);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(target, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('error', (error) => reject(new Transient(error.message)));
        response.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            json = undefined;
          }
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode ?? 0, json, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter });
        });
      });
      req.setTimeout(UPLOAD_IDLE_MS, () => req.destroy(new Error(`no answer for ${UPLOAD_IDLE_MS / 1000} s`)));
      req.on('error', (error: NodeJS.ErrnoException) => reject(new Transient(error.code ?? error.message)));
      req.end(body);
    });
  }

  async getMany(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    if (names.length === 0) return [];
    const urls = await this.presign('get', names.map((name) => ({ name })));
    return mapLimit(urls, this.concurrency, (u) => transferObject(this.fetchImpl, this.attempts, u));
  }

  /** The PUT URLs for a worker to upload with; only with the global fetch (a test's own cannot cross threads). */
  readonly sinkFor?: (objects: readonly { name: string; size: number; sha256: string }[]) => Promise<WorkerSink>;

  async putMany(objects: readonly { name: string; bytes: Uint8Array; sha256: string }[]): Promise<void> {
    if (objects.length === 0) return;
    const urls = await this.presign('put', objects.map((o) => ({ name: o.name, size: o.bytes.length, sha256: o.sha256 })));
    await mapLimit(urls, this.concurrency, (u, i) => transferObject(this.fetchImpl, this.attempts, u, objects[i]!.bytes));
  }

  async deleteMany(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const urls = await this.presign('delete', names.map((name) => ({ name })));
    await mapLimit(urls, this.concurrency, (u) => transferObject(this.fetchImpl, this.attempts, u));
  }
}

/** A folder holding objects under their names (what `open --from` reads back). */
export class FolderStore implements ObjectStore {
  readonly description: string;
  readonly needsDigests = false;
  constructor(private readonly dir: string) {
    this.description = dir;
  }

  async getMany(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(
      names.map(async (name) => {
        try {
          return new Uint8Array(await readFile(join(this.dir, name)));
        } catch (error) {
          if ((error as { code?: string }).code === 'ENOENT') return undefined;
          throw ioError('INPUT_UNREADABLE', join(this.dir, name), error);
        }
      }),
    );
  }

  private async folder(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw ioError('OUTPUT_FAILED', this.dir, error);
    }
  }

  async putMany(objects: readonly { name: string; bytes: Uint8Array; sha256: string }[]): Promise<void> {
    await this.folder();
    await writeObjects(this.dir, objects);
  }

  async sinkFor(): Promise<WorkerSink> {
    await this.folder();
    return { kind: 'folder', dir: this.dir };
  }

  async deleteMany(names: readonly string[]): Promise<void> {
    await Promise.all(names.map((name) => rm(join(this.dir, name), { force: true })));
  }
}

export interface StoreOptions {
  readonly storage?: string | undefined;
  readonly token?: string | undefined;
  readonly to?: string | undefined;
  readonly concurrency?: number | undefined;
}

/** --storage/--token (or EHRV_STORAGE/EHRV_TOKEN), or --to DIR. */
export function storeFromOptions(o: StoreOptions, env: NodeJS.ProcessEnv = process.env): ObjectStore {
  if (o.to !== undefined) return new FolderStore(o.to);
  const url = o.storage ?? env.EHRV_STORAGE;
  if (!url) throw usage('No storage given.', 'Pass --storage <presign URL> (or set EHRV_STORAGE), or a folder of objects.');
  const token = o.token ?? env.EHRV_TOKEN;
  if (!token) throw usage('No token for the presign service.', 'Pass --token <token> or set EHRV_TOKEN (a token on the command line is visible to other users of this machine).');
  return new PresignStore({ url, token, concurrency: o.concurrency });
}
