/** Shared helpers for the service tests (not a test file). */
import { protectRecord } from '../../../src/core/record.js';
import type { LockManagerLike } from '../../../src/services/outbox-runner.js';

export const SEQUENCE_KEY = 'adk21937';
export const FILE_NAME = 'jane-doe-mri-2024.txt';
/** Small Argon2id parameters keep service tests fast; the format's own tests cover the default ones. */
export const TEST_KDF = { memoryKiB: 64, passes: 1, parallelism: 1 } as const;

/** A real protected record (core, in Node), shaped like the engine's ProtectResult. */
export async function protectedSample(size = 3_000, sequenceKey = SEQUENCE_KEY, parity = 0) {
  const plaintext = new Uint8Array(size);
  for (let i = 0; i < size; i++) plaintext[i] = (i * 31 + 7) & 0xff;
  const metadata = { kind: 'file' as const, name: FILE_NAME, mime: 'text/plain', byteLength: size };
  const record = await protectRecord([plaintext], metadata, sequenceKey, { chunkSize: 1024, kdf: TEST_KDF, parity });
  return {
    plaintext,
    recordKey: record.recordKey,
    recordId: record.recordId,
    result: {
      metadata,
      envelopeLength: record.envelopeLength,
      objects: record.objects.map((bytes, slot) => ({ slot, blob: new Blob([bytes as BlobPart]) })),
    },
  };
}

/** Web Locks semantics in memory: one holder per name, the rest queue; a waiting request can be aborted. */
export function memoryLocks(): LockManagerLike {
  const tails = new Map<string, Promise<void>>();
  return {
    async request<T>(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      tails.set(name, previous.then(() => mine));
      try {
        await new Promise<void>((resolve, reject) => {
          void previous.then(resolve);
          options.signal?.addEventListener('abort', () => reject(new DOMException('Lock request aborted', 'AbortError')), { once: true });
        });
      } catch (error) {
        release();
        throw error;
      }
      try {
        return await callback({ name });
      } finally {
        release();
      }
    },
  };
}

/** Resolves when `predicate` holds, checking after every event the runner emits (no timing assumptions). */
export function until(target: EventTarget, types: string[], predicate: () => boolean | Promise<boolean>): Promise<void> {
  return new Promise((resolve) => {
    const check = async () => {
      if (await predicate()) {
        types.forEach((t) => target.removeEventListener(t, check));
        resolve();
      }
    };
    types.forEach((t) => target.addEventListener(t, check));
    void check();
  });
}
