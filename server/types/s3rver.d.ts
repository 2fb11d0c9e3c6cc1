/**
 * Minimal typings for @20minutes/s3rver 4.x (the package ships none).
 * Only the surface used by server/local-s3.ts is declared.
 */
declare module '@20minutes/s3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  export interface S3rverBucketConfig {
    name: string;
    /** Bucket sub-resource documents, e.g. a CORSConfiguration XML string. */
    configs?: Array<string | Uint8Array>;
  }

  export interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    serviceEndpoint?: string;
    configureBuckets?: S3rverBucketConfig[];
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the configured buckets, then listens. Resolves with the bound address. */
    run(): Promise<AddressInfo>;
    /** Set once run() has resolved. */
    httpServer?: Server;
    close(): Promise<void>;
  }
}
