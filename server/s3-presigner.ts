import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Operation, PresignObject } from './presign-request.js';

export interface S3Target {
  /** Full endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:4568. */
  endpoint: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  /** Static credentials; when absent the AWS SDK default chain (env, profile, role) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

export type HttpMethod = 'PUT' | 'GET' | 'HEAD' | 'DELETE';

export interface PresignedRequest {
  url: string;
  method: HttpMethod;
  /** Headers the client must send verbatim (they are part of the signature). */
  headers: Record<string, string>;
}

export interface PresignTiming {
  expiresInSeconds: number;
  /** Whole-second signing instant (X-Amz-Date has second precision). */
  signingDate: Date;
}

export interface Presigner {
  presign(operation: Operation, key: string, object: PresignObject, timing: PresignTiming): Promise<PresignedRequest>;
  /** The origin presigned URLs point to (for CSP connect-src). */
  origin(): Promise<string>;
  destroy(): void;
}

const METHODS: Record<Operation, HttpMethod> = { put: 'PUT', get: 'GET', head: 'HEAD', delete: 'DELETE' };
const CHECKSUM_HEADER = 'x-amz-checksum-sha256';

export function createPresigner(target: S3Target): Presigner {
  const client = new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: target.forcePathStyle,
    ...(target.credentials ? { credentials: target.credentials } : {}),
    // Without these the SDK adds a CRC32 checksum of an empty body to PUT URLs, which S3/R2/MinIO reject.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = target.bucket;

  function command(operation: Operation, Key: string, object: PresignObject) {
    switch (operation) {
      case 'put':
        if (object.size === undefined || object.sha256 === undefined) throw new Error('presign: a put needs size and sha256');
        return new PutObjectCommand({
          Bucket,
          Key,
          // Signed as Content-Length: the store rejects a body of any other size.
          ContentLength: object.size,
          // Signed as x-amz-checksum-sha256: the store rejects other bytes.
          ChecksumSHA256: object.sha256,
        });
      case 'get':
        return new GetObjectCommand({ Bucket, Key });
      case 'head':
        return new HeadObjectCommand({ Bucket, Key });
      case 'delete':
        return new DeleteObjectCommand({ Bucket, Key });
    }
  }

  async function presign(operation: Operation, key: string, object: PresignObject, timing: PresignTiming): Promise<PresignedRequest> {
    const signChecksum = operation === 'put' && object.sha256 !== undefined;
    const url = await getSignedUrl(client, command(operation, key, object), {
      expiresIn: timing.expiresInSeconds,
      signingDate: timing.signingDate,
      // S3 only verifies the checksum when it arrives as a header, never from the query string.
      ...(signChecksum ? { unhoistableHeaders: new Set([CHECKSUM_HEADER]) } : {}),
    });
    const headers: Record<string, string> = signChecksum && object.sha256 !== undefined ? { [CHECKSUM_HEADER]: object.sha256 } : {};
    return { url, method: METHODS[operation], headers };
  }

  return {
    presign,
    async origin() {
      const probe = await presign('head', 'origin-probe', { name: 'origin-probe' }, { expiresInSeconds: 60, signingDate: new Date() });
      return new URL(probe.url).origin;
    },
    destroy: () => client.destroy(),
  };
}
