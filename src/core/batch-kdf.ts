import { InputInvalidError } from './errors.js';
import { DEFAULT_KDF, KDF_OUTPUT_LENGTH, KDF_SALT_LENGTH, stretchSequenceKey, type KdfParams } from './kdf.js';
import { systemRandomBytes, type RandomBytes } from './keychain.js';
import type { Stretch } from './open-objects.js';
import type { SequenceKey } from './sequence-key.js';

/**
 * X = Argon2id(S, salt) for one protect batch (FORMAT.md §3): every record protected under one sequence key
 * in one batch (a CLI run, several files picked at once in the app) shares the salt and X, so the
 * memory-hard cost is paid once per batch instead of once per record. Records stay separate: each one's keys
 * are HKDF(salt = its own record id, K ‖ X) with its own random K (keychain.ts).
 */
export interface BatchKdf {
  /** The key X was stretched from: a batch must never be used with another key. */
  readonly sequenceKey: SequenceKey;
  readonly kdf: KdfParams;
  /** 16 random bytes, written into every object head of the batch's records (§4.1). */
  readonly salt: Uint8Array;
  /** X, 32 bytes: secret (with a share text it opens the record); wipe it with `forgetBatch`. */
  readonly stretched: Uint8Array;
}

export interface BatchOptions {
  readonly randomBytes?: RandomBytes | undefined;
  /** A given salt (test vectors, a resumed CLI run); a fresh random one when absent. */
  readonly salt?: Uint8Array | undefined;
  /** Replaces Argon2id (tests that count or cache it). */
  readonly stretch?: Stretch | undefined;
}

/** Runs the batch's one Argon2id. */
export async function stretchForBatch(key: SequenceKey, kdf: KdfParams = DEFAULT_KDF, options: BatchOptions = {}): Promise<BatchKdf> {
  const salt = options.salt ? options.salt.slice() : (options.randomBytes ?? systemRandomBytes)(KDF_SALT_LENGTH);
  const stretched = await (options.stretch ?? stretchSequenceKey)(key, salt, kdf);
  return { sequenceKey: key, kdf, salt, stretched };
}

/**
 * A batch handed over from elsewhere (a worker message, the engine): checks its shape and that it belongs to
 * `key`, so a record is never sealed under another key's X.
 */
export function checkBatch(batch: BatchKdf, key: SequenceKey): void {
  if (batch.salt.length !== KDF_SALT_LENGTH || batch.stretched.length !== KDF_OUTPUT_LENGTH) {
    throw new InputInvalidError('A batch KDF result has the wrong length.', { salt: batch.salt.length, stretched: batch.stretched.length });
  }
  if (batch.sequenceKey.text !== key.text) throw new InputInvalidError('This batch was stretched from another sequence key.');
}

/**
 * Argon2id for opening, answered from `batch` when a record's head names that batch's salt and parameters
 * under the same sequence key (a record this device protected in the batch still held in memory), and
 * computed otherwise. The answer is X either way; the cache only skips recomputing what is already known.
 */
export function stretchWithBatch(batch: BatchKdf | undefined): Stretch {
  return async (key, salt, params) => {
    if (
      batch &&
      batch.sequenceKey.text === key.text &&
      batch.kdf.memoryKiB === params.memoryKiB &&
      batch.kdf.passes === params.passes &&
      batch.kdf.parallelism === params.parallelism &&
      batch.salt.length === salt.length &&
      batch.salt.every((b, i) => b === salt[i])
    ) {
      return batch.stretched.slice();
    }
    return stretchSequenceKey(key, salt, params);
  };
}

/** Wipes X once the batch is over. */
export function forgetBatch(batch: BatchKdf | undefined): void {
  batch?.stretched.fill(0);
}
