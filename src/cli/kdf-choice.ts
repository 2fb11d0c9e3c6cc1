import { DEFAULT_KDF, type KdfParams } from '../core/kdf.js';
import { usage } from './errors.js';

/** Argon2id parameters a protect run writes: the format's default, or tiny ones for tests only (EHRV_KDF=test). */
export const TEST_KDF: KdfParams = { memoryKiB: 8, passes: 1, parallelism: 1 };

export function kdfFromEnv(env: NodeJS.ProcessEnv = process.env): KdfParams {
  const value = env.EHRV_KDF;
  if (value === undefined || value === '' || value === 'default') return DEFAULT_KDF;
  if (value === 'test') return TEST_KDF;
  throw usage(`EHRV_KDF=${value} is not known.`, 'Leave EHRV_KDF unset (the format default); "test" is for automated tests only.');
}
