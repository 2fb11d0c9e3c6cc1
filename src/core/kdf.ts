import { argon2id } from 'hash-wasm';
import { utf8Encoder } from './bytes.js';
import { InputInvalidError } from './errors.js';
import type { SequenceKey } from './sequence-key.js';

/** Argon2id parameters, stored in every object head (FORMAT.md §3, §4.1). */
export interface KdfParams {
  readonly memoryKiB: number;
  readonly passes: number;
  readonly parallelism: number;
}

/**
 * What writers use: 64 MiB, 4 passes, one thread. Measured with hash-wasm on the 2-core reference machine
 * (FORMAT.md §3.1): 64 MiB took ~145/200/250/325 ms for 1/2/3/4 passes; 4 is the cheapest setting above the
 * 0.25 s floor the format aims for within 64 MiB.
 */
export const DEFAULT_KDF: KdfParams = { memoryKiB: 65_536, passes: 4, parallelism: 1 };

/** Reader limits: a phone must be able to open what it is sent (FORMAT.md §3 step 2). */
export const KDF_LIMITS = { memoryKiB: [8, 262_144], passes: [1, 16], parallelism: [1, 1] } as const;

export const KDF_OUTPUT_LENGTH = 32;
/** The Argon2id salt stored in every object head (FORMAT.md §3, §4.1): random per protect batch. */
export const KDF_SALT_LENGTH = 16;

export function kdfParamsInRange(p: KdfParams): boolean {
  const inRange = (v: number, [lo, hi]: readonly [number, number]) => Number.isInteger(v) && v >= lo && v <= hi;
  return inRange(p.memoryKiB, KDF_LIMITS.memoryKiB) && inRange(p.passes, KDF_LIMITS.passes) && inRange(p.parallelism, KDF_LIMITS.parallelism);
}

/**
 * X = Argon2id(UTF-8(NFC sequence key), batch salt): the memory-hard step that makes every guess of a
 * sequence key cost an attacker who holds a share text one Argon2id. Slow on purpose: call it in a Worker.
 */
export async function stretchSequenceKey(key: SequenceKey, salt: Uint8Array, params: KdfParams = DEFAULT_KDF): Promise<Uint8Array> {
  if (!kdfParamsInRange(params)) throw new InputInvalidError('Argon2id parameters out of range.', { ...params });
  if (salt.length !== KDF_SALT_LENGTH) throw new InputInvalidError(`An Argon2id salt is ${KDF_SALT_LENGTH} bytes.`, { length: salt.length });
  return argon2id({
    password: utf8Encoder.encode(key.text),
    salt,
    parallelism: params.parallelism,
    iterations: params.passes,
    memorySize: params.memoryKiB,
    hashLength: KDF_OUTPUT_LENGTH,
    outputType: 'binary',
  });
}
