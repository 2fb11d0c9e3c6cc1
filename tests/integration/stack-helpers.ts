/** Helpers for the integration tests against the real stack (not a test file). */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `ehrv-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

const OBJECT_SUFFIX = '._S3rver_object';

/**
 * Reads the embedded store's bucket straight from s3rver's data directory (not through the app, the
 * presign service or any proxy), as an auditor with disk access would. Each object is one file
 * `<dataDir>/<bucket>/<key>._S3rver_object`, so listing the folder lists the bucket. (The AWS SDK's
 * header-signed requests are not accepted by s3rver 4, so its S3 API cannot be used for this.)
 */
export function bucketReader(dataDir: string, bucket = 'ehr-vault') {
  const root = join(dataDir, bucket);
  return {
    async list(prefix: string): Promise<string[]> {
      const files = await readdir(root, { recursive: true }).catch(() => [] as string[]);
      return files
        .filter((file) => file.endsWith(OBJECT_SUFFIX))
        .map((file) => file.slice(0, -OBJECT_SUFFIX.length).split(sep).join('/'))
        .filter((key) => key.startsWith(prefix))
        .sort();
    },
    async read(key: string): Promise<Uint8Array> {
      return new Uint8Array(await readFile(join(root, ...key.split('/')) + OBJECT_SUFFIX));
    },
  };
}

export function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pseudoRandomBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** A valid object name (the service wants ^[a-z0-9]{16,64}$). */
export function testObjectName(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(6, '0')}`.padEnd(32, '0').slice(0, 32);
}
