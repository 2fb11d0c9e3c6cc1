import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { utf8Encoder } from '../core/bytes.js';
import { InputInvalidError } from '../core/errors.js';
import { KDF_OUTPUT_LENGTH, KDF_SALT_LENGTH, kdfParamsInRange, stretchSequenceKey } from '../core/kdf.js';
import type { Stretch } from '../core/open-objects.js';

type NativeHash = (password: Buffer, options: { type: 2; memoryCost: number; timeCost: number; parallelism: number; hashLength: number; salt: Buffer; raw: true }) => Promise<Buffer>;

let loaded: Promise<NativeHash | undefined> | undefined;
let location: string | undefined;

/**
 * Where the `argon2` package's entry is, resolved from this file; undefined where it is not installed or
 * this module runs from the workers' bundle (a data: URL resolves no package: the pool passes the path).
 */
export function argon2Location(): string | undefined {
  if (location) return location;
  try {
    return (location = createRequire(import.meta.url).resolve('argon2'));
  } catch {
    return undefined;
  }
}

/** A protect worker: the package's path as resolved by the main thread (worker-pool.ts, workerData). */
export function useArgon2At(path: string | undefined): void {
  if (path) location = path;
}

/** The `argon2` package (an optional dependency with prebuilt binaries), or undefined where it does not load. */
function nativeHash(env: NodeJS.ProcessEnv): Promise<NativeHash | undefined> {
  if (env.EHRV_ARGON2 === 'wasm') return Promise.resolve(undefined);
  const at = argon2Location();
  if (!at) return Promise.resolve(undefined);
  loaded ??= import(pathToFileURL(at).href).then(
    (m) => ((m as { hash?: unknown }).hash ?? (m as { default?: { hash?: unknown } }).default?.hash) as NativeHash | undefined,
    () => undefined,
  );
  return loaded;
}

/**
 * X = Argon2id(S, salt) (FORMAT.md §3) for the command line: the reference C implementation through the
 * `argon2` package where it loads — ~200 ms for the default 64 MiB × 4 passes against ~340 ms for hash-wasm's
 * WebAssembly on the reference machine, off the main thread (libuv pool) — and the core's hash-wasm
 * otherwise (`EHRV_ARGON2=wasm` forces it). Same RFC 9106 function, same bytes: tests/cli/native-argon2.test.ts
 * runs tests/vectors/argon2id.json through both. Every run of the CLI pays one (protect) or one per record
 * (open), so this is a run's largest fixed cost after the workers' start.
 */
export async function cliStretch(env: NodeJS.ProcessEnv = process.env): Promise<Stretch> {
  const hash = await nativeHash(env);
  if (!hash) return stretchSequenceKey;
  return async (key, salt, params) => {
    // The same checks as the core, so an out-of-range head fails alike whichever implementation runs.
    if (!kdfParamsInRange(params)) throw new InputInvalidError('Argon2id parameters out of range.', { ...params });
    if (salt.length !== KDF_SALT_LENGTH) throw new InputInvalidError(`An Argon2id salt is ${KDF_SALT_LENGTH} bytes.`, { length: salt.length });
    const password = Buffer.from(utf8Encoder.encode(key.text));
    try {
      const tag = await hash(password, { type: 2, memoryCost: params.memoryKiB, timeCost: params.passes, parallelism: params.parallelism, hashLength: KDF_OUTPUT_LENGTH, salt: Buffer.from(salt), raw: true });
      const out = new Uint8Array(tag);
      tag.fill(0);
      return out;
    } finally {
      password.fill(0);
    }
  };
}
