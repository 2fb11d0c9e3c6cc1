/** Starts the real stack (built app + presign service + embedded S3) for app e2e tests. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { bucketReader } from '../integration/stack-helpers.js';
import { startStack } from '../../server/start.js';

export interface AppStack {
  readonly appUrl: string;
  readonly listObjects: () => Promise<string[]>;
  readonly readObject: (key: string) => Promise<Uint8Array>;
  readonly deleteObject: (key: string) => Promise<void>;
  readonly close: () => Promise<void>;
}

export async function startAppStack(): Promise<AppStack> {
  const dist = new URL('../../dist/index.html', import.meta.url);
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first (npm test does).');
  const dataDir = mkdtempSync(join(tmpdir(), 'ehrv-e2e-s3-'));
  const stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir }, rateLimit: { burst: 1000, perSecond: 1000 }, log: () => {} });
  // The bucket is read and changed on disk, as an operator would: s3rver 4 refuses the SDK's
  // header-signed requests (see tests/integration/stack-helpers.ts).
  const bucket = bucketReader(dataDir);
  return {
    appUrl: stack.appUrl,
    listObjects: () => bucket.list(''),
    readObject: (key) => bucket.read(key),
    deleteObject: async (key) => {
      const path = join(dataDir, 'ehr-vault', ...key.split('/'));
      const dir = path.slice(0, path.lastIndexOf('/'));
      const base = path.slice(path.lastIndexOf('/') + 1);
      for (const file of await readdir(dir)) if (file.startsWith(`${base}._S3rver`)) await rm(join(dir, file));
    },
    close: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
