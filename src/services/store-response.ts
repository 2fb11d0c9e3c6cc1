import type { TransportResponse } from './http-transport.js';

/**
 * What to do with an object store's answer to a presigned request:
 * - `ok`: done (for delete, 404 also counts: the object is gone either way);
 * - `represign`: 403, the URL expired or was refused; a fresh URL may work;
 * - `retry`: transient (5xx, 408, 429, S3's RequestTimeout / BadDigest, which mean the bytes did not
 *   arrive intact);
 * - `missing`: 404 on get/head;
 * - `fatal`: anything else; retrying the same request cannot help.
 */
export type StoreVerdict = 'ok' | 'represign' | 'retry' | 'missing' | 'fatal';

const TRANSIENT_S3_CODES = new Set(['RequestTimeout', 'BadDigest', 'XAmzContentSHA256Mismatch', 'InternalError', 'SlowDown', 'ServiceUnavailable']);

/** The `<Code>` of an S3 error document, if the (small) body has one. */
export async function storeErrorCode(response: TransportResponse): Promise<string | null> {
  if (response.body.size === 0 || response.body.size > 64 * 1024) return null;
  const text = await response.body.text().catch(() => '');
  return /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? null;
}

export function storeVerdict(method: string, status: number, s3Code: string | null): StoreVerdict {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 404) return method === 'DELETE' ? 'ok' : 'missing';
  if (status === 403) return 'represign';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (s3Code !== null && TRANSIENT_S3_CODES.has(s3Code)) return 'retry';
  return 'fatal';
}
