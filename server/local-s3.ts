import S3rver from '@20minutes/s3rver';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, listen } from './http-server.js';
import { createS3Guard } from './s3-guard.js';

export const LOCAL_S3_REGION = 'us-east-1';

/** s3rver's account registry (process-wide): we add a random key per store and drop the public dummy key. */
interface AwsAccount {
  createKeyPair(accessKeyId: string, secretAccessKey: string): void;
  revokeAccessKey(accessKeyId: string): void;
}
const accounts = createRequire(import.meta.url)('@20minutes/s3rver/lib/models/account.js') as { DUMMY_ACCOUNT: AwsAccount };

export interface LocalS3Options {
  /** Loopback address the guard listens on. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Objects are kept here as plain files between runs. */
  dataDir: string;
  bucket: string;
  /** Origins the browser app is served from; written into the bucket CORS configuration. */
  allowedOrigins: readonly string[];
  /** Largest upload the guard lets through. */
  maxObjectBytes: number;
  /** Upload bytes the guard holds in memory at once (default max(256 MiB, 2 × maxObjectBytes)). */
  maxBufferedBytes?: number;
  /** Extra Host values to answer to (a reverse proxy in front that keeps its own Host); the store's own address is always allowed. */
  extraHosts?: readonly string[];
  /** Print s3rver's request log. */
  verbose: boolean;
  log?: (line: string) => void;
}

export interface LocalS3 {
  endpoint: string;
  /** The signing key of this store (random per start; never the public S3RVER dummy key). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  close(): Promise<void>;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Bucket CORS: the app origins may GET/PUT/HEAD/DELETE with any header and read the ETag. */
export function bucketCorsXml(allowedOrigins: readonly string[]): string {
  const origins = allowedOrigins.map((origin) => `    <AllowedOrigin>${escapeXml(origin)}</AllowedOrigin>`).join('\n');
  return [
    '<CORSConfiguration>',
    '  <CORSRule>',
    origins,
    ...['GET', 'PUT', 'HEAD', 'DELETE'].map((method) => `    <AllowedMethod>${method}</AllowedMethod>`),
    '    <AllowedHeader>*</AllowedHeader>',
    '    <ExposeHeader>ETag</ExposeHeader>',
    '    <MaxAgeSeconds>600</MaxAgeSeconds>',
    '  </CORSRule>',
    '</CORSConfiguration>',
  ].join('\n');
}

/**
 * Starts an embedded S3: s3rver on a Unix socket in a private folder (no TCP port at all), behind the
 * guard (server/s3-guard.ts) on host:port, with the bucket and its CORS rule in place. Only presigned
 * URLs made with this store's random key get through.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  if (options.allowedOrigins.length === 0) throw new Error('local S3: at least one allowed origin is required');
  await mkdir(options.dataDir, { recursive: true });
  // mkdtemp creates the folder with mode 0700: only this user can reach the socket.
  const socketDir = await mkdtemp(join(tmpdir(), 'ehrv-s3-'));
  const socketPath = join(socketDir, 's3rver.sock');
  accounts.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  const credentials = { accessKeyId: `EHRV${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64url') };
  accounts.DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);

  const server = new S3rver({
    // s3rver passes `port` to listen(); a path makes it a Unix socket.
    port: socketPath as unknown as number,
    directory: options.dataDir,
    silent: !options.verbose,
    // Path-style only: http://host:port/<bucket>/<key>.
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [bucketCorsXml(options.allowedOrigins)] }],
  });
  const cleanup = async () => {
    accounts.DUMMY_ACCOUNT.revokeAccessKey(credentials.accessKeyId);
    await rm(socketDir, { recursive: true, force: true });
  };
  const closeS3rver = async () => {
    const closing = server.close();
    // Keep-alive sockets would otherwise hold close() open.
    server.httpServer?.closeIdleConnections();
    const timer = setTimeout(() => server.httpServer?.closeAllConnections(), 1_000);
    timer.unref();
    try {
      await closing;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await server.run();
  } catch (error) {
    await cleanup();
    throw error;
  }

  const allowedHosts = new Set<string>();
  const guard = createS3Guard(
    { bucket: options.bucket, allowedHosts, accessKeyId: credentials.accessKeyId, maxObjectBytes: options.maxObjectBytes, ...(options.maxBufferedBytes !== undefined ? { maxBufferedBytes: options.maxBufferedBytes } : {}) },
    socketPath,
    options.log,
  );
  let front: Awaited<ReturnType<typeof listen>>;
  try {
    // Uploads of up to maxObjectBytes over slow links: a longer whole-request limit than the API's.
    front = await listen(guard, options.host, options.port, { headersMs: 10_000, requestMs: 300_000, keepAliveMs: 5_000 });
  } catch (error) {
    await closeS3rver().catch(() => {});
    await cleanup();
    throw error;
  }
  allowedHosts.add(`${options.host}:${front.port}`);
  for (const host of options.extraHosts ?? []) allowedHosts.add(host.toLowerCase());

  return {
    endpoint: `http://${options.host}:${front.port}`,
    credentials,
    close: async () => {
      const results = await Promise.allSettled([closeServer(front.server), closeS3rver()]);
      await cleanup();
      const failure = results.find((result) => result.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    },
  };
}
