import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PresignedUrl {
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
}

export interface PresignResponse {
  expiresAt: string;
  urls: PresignedUrl[];
}

export interface ErrorResponse {
  error: { code: string; message: string; hint: string };
}

/** A valid fragment name: 32 lowercase hex characters. */
export function fragmentName(): string {
  return randomBytes(16).toString('hex');
}

export async function makeTempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `ehrv-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A minimal stand-in for the vite build output. */
export async function makeDist(root: string): Promise<string> {
  const dist = join(root, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>EHR Vault</title><script type="module" src="/assets/app-abc123.js"></script>');
  await writeFile(join(dist, 'assets', 'app-abc123.js'), 'console.log("app");');
  await writeFile(join(dist, 'assets', 'worker-def456.js'), 'self.onmessage = () => {};');
  await writeFile(join(dist, 'manifest.webmanifest'), '{"name":"EHR Vault"}');
  await writeFile(join(dist, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  return dist;
}

export function presignRaw(appUrl: string, init: { token?: string; body?: string; headers?: Record<string, string> }): Promise<Response> {
  return fetch(`${appUrl}/api/presign`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
}

export async function presign(appUrl: string, token: string, request: unknown): Promise<PresignResponse> {
  const response = await presignRaw(appUrl, { token, body: JSON.stringify(request) });
  const body = (await response.json()) as unknown;
  if (response.status !== 200) throw new Error(`presign failed: ${response.status} ${JSON.stringify(body)}`);
  return body as PresignResponse;
}

export async function presignOne(appUrl: string, token: string, operation: string, object: Record<string, unknown>): Promise<PresignedUrl> {
  const { urls } = await presign(appUrl, token, { operation, objects: [object] });
  const [first] = urls;
  if (first === undefined) throw new Error('presign returned no URL');
  return first;
}

/** Performs the presigned request exactly as a client would. */
export function send(signed: PresignedUrl, body?: Uint8Array, extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(signed.url, {
    method: signed.method,
    headers: { ...signed.headers, ...extraHeaders },
    ...(body !== undefined ? { body: new Uint8Array(body) } : {}),
  });
}

export async function errorCode(response: Response): Promise<string> {
  const body = (await response.json()) as ErrorResponse;
  return body.error.code;
}

/** The fields every put must carry: the exact size and base64 SHA-256 of the bytes to upload. */
export function putFields(bytes: Uint8Array = new Uint8Array(0)): { size: number; sha256: string } {
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('base64') };
}
