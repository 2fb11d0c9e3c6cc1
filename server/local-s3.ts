import S3rver from '@20minutes/s3rver';
import { mkdir } from 'node:fs/promises';

/** Credentials @20minutes/s3rver accepts out of the box (its built-in dummy account). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_S3_REGION = 'us-east-1';

export interface LocalS3Options {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Objects are kept here as plain files between runs. */
  dataDir: string;
  bucket: string;
  /** Origins the browser app is served from; written into the bucket CORS configuration. */
  allowedOrigins: readonly string[];
  /** Print s3rver's request log. */
  verbose: boolean;
}

export interface LocalS3 {
  endpoint: string;
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

/** Starts an embedded S3 (s3rver) that verifies SigV4 signatures and expiry, with the bucket and CORS in place. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  if (options.allowedOrigins.length === 0) throw new Error('local S3: at least one allowed origin is required');
  await mkdir(options.dataDir, { recursive: true });
  const server = new S3rver({
    address: options.host,
    port: options.port,
    directory: options.dataDir,
    silent: !options.verbose,
    // Path-style only: http://host:port/<bucket>/<key>.
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [bucketCorsXml(options.allowedOrigins)] }],
  });
  const address = await server.run();
  return {
    endpoint: `http://${options.host}:${address.port}`,
    close: async () => {
      const closing = server.close();
      // Keep-alive sockets (browsers, undici) would otherwise hold close() open.
      server.httpServer?.closeIdleConnections();
      const timer = setTimeout(() => server.httpServer?.closeAllConnections(), 1_000);
      timer.unref();
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
