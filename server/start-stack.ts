import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { API_PREFIX, createApiHandler, type PublicConfig } from './api-handler.js';
import { originPolicy } from './api-cors.js';
import { closeServer, listen, type RequestHandler } from './http-server.js';
import { LOCAL_S3_REGION, startLocalS3, type LocalS3 } from './local-s3.js';
import { createOidcVerifier } from './oidc-auth.js';
import { createPresignRequestParser } from './presign-request.js';
import { TokenBucketLimiter } from './rate-limiter.js';
import { createPresigner, type Presigner, type S3Target } from './s3-presigner.js';
import { contentSecurityPolicy } from './security-headers.js';
import { resolveStackOptions, type ResolvedStackOptions, type StackOptions } from './stack-options.js';
import { createStaticHandler } from './static-handler.js';
import { createStorageIds, loadStorageIdKey } from './storage-ids.js';
import { createTokenStore, DEV_USER_ID } from './token-store.js';

export interface Stack {
  /** Where the app (and the API under /api) is served, e.g. http://127.0.0.1:8080. */
  appUrl: string;
  /** The S3 endpoint presigned URLs point to. */
  s3Url: string;
  /** The development bearer token (user "dev"), or null when only configured tokens are accepted. */
  token: string | null;
  /** The embedded store's signing key (random per start), or null with an external store. Secret: for tests and tools only. */
  s3Credentials: { accessKeyId: string; secretAccessKey: string } | null;
  /** The resolved configuration (tokens included: keep it out of logs). */
  options: ResolvedStackOptions;
  close(): Promise<void>;
}

function s3Target(options: ResolvedStackOptions, localS3: LocalS3 | undefined): S3Target {
  const external = options.external;
  if (external !== undefined) {
    return {
      endpoint: external.endpoint,
      region: external.region,
      bucket: options.bucket,
      forcePathStyle: external.forcePathStyle,
      credentials: external.accessKeyId !== undefined && external.secretAccessKey !== undefined
        ? { accessKeyId: external.accessKeyId, secretAccessKey: external.secretAccessKey, sessionToken: external.sessionToken }
        : undefined,
    };
  }
  if (localS3 === undefined) throw new Error('no S3 store configured');
  return {
    endpoint: localS3.endpoint,
    region: LOCAL_S3_REGION,
    bucket: options.bucket,
    forcePathStyle: true,
    credentials: { ...localS3.credentials },
  };
}

function isApiPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0] ?? '/';
  return path === '/api' || path.startsWith(API_PREFIX);
}

/**
 * Starts the embedded S3 (unless an external store is configured), the presign API under /api and
 * the static server for the built app, all on 127.0.0.1.
 */
export async function startStack(input: StackOptions = {}): Promise<Stack> {
  const options = resolveStackOptions(input);
  let dispatch: RequestHandler = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' });
    res.end('Starting\n');
  };
  // Listen first: with port 0 the app origin (needed for the bucket CORS rules) is only known now.
  const app = await listen((req, res) => dispatch(req, res), options.host, options.appPort, options.httpTimeouts);
  const appUrl = `http://${options.host}:${app.port}`;
  const ownOrigins = [appUrl, `http://localhost:${app.port}`];
  const allowedOrigins = [...new Set([...ownOrigins, ...options.appOrigins])];

  let localS3: LocalS3 | undefined;
  let presigner: Presigner | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      const results = await Promise.allSettled([closeServer(app.server), localS3?.close()]);
      presigner?.destroy();
      const failure = results.find((result) => result.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
    })();
    return closed;
  };

  try {
    if (options.external === undefined) {
      localS3 = await startLocalS3({
        host: options.host,
        port: options.localS3.port,
        dataDir: options.localS3.dataDir,
        bucket: options.bucket,
        allowedOrigins,
        maxObjectBytes: options.maxObjectBytes,
        extraHosts: options.localS3.extraHosts,
        verbose: options.localS3.verbose,
        log: options.log,
      });
    }
    const target = s3Target(options, localS3);
    presigner = createPresigner(target);
    const s3Origin = await presigner.origin();

    const oidc = options.oidc === null ? undefined : await createOidcVerifier(options.oidc);
    const tokens = createTokenStore(options.devToken === null ? options.tokens : { ...options.tokens, [options.devToken]: DEV_USER_ID });
    const publicConfig: PublicConfig = {
      presignUrl: '/api/presign',
      defaultToken: options.devToken,
      expiresInSeconds: options.presignExpiresSeconds,
      maxObjectsPerRequest: options.maxObjectsPerRequest,
      maxObjectBytes: options.maxObjectBytes,
      checksumSha256: true,
      storage: options.external === undefined ? 'embedded' : 'external',
      oidc: oidc?.publicConfig ?? null,
    };
    const api = createApiHandler({
      tokens,
      oidc,
      limiter: new TokenBucketLimiter(options.rateLimit),
      authFailures: new TokenBucketLimiter(options.authFailureLimit),
      presigner,
      parseRequest: createPresignRequestParser({ maxObjects: options.maxObjectsPerRequest, maxObjectBytes: options.maxObjectBytes }),
      storageIds: createStorageIds(loadStorageIdKey(options.storageIdKey, options.external === undefined ? join(options.localS3.dataDir, '..', 'storage-id.key') : undefined, options.log)),
      sharedLimiter: new TokenBucketLimiter(options.sharedRateLimit),
      originPolicy: originPolicy(allowedOrigins),
      publicConfig,
      maxBodyBytes: options.maxBodyBytes,
      log: options.log,
    });
    // The app talks to the store and, to sign in, to the identity provider (discovery, token, revocation).
    const connectOrigins = [s3Origin, ...(options.oidc !== null ? [new URL(options.oidc.issuer).origin] : [])];
    const files = createStaticHandler({ distDir: options.distDir, csp: contentSecurityPolicy(connectOrigins) });
    dispatch = (req, res) => (isApiPath(req.url) ? api(req, res) : files(req, res));

    return { appUrl, s3Url: target.endpoint, token: options.devToken, s3Credentials: localS3?.credentials ?? null, options, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
