import { stretchForBatch, type BatchKdf } from '../core/batch-kdf.js';
import type { KdfParams } from '../core/kdf.js';
import { toHex } from '../core/bytes.js';
import type { Stretch } from '../core/open-objects.js';
import { parseSequenceKey } from '../core/sequence-key.js';

/**
 * X = Argon2id(S, salt) of a protect run, computed once per (S, salt, parameters) and kept for the run
 * (FORMAT.md §3): every record of the run shares the batch salt, so a run of a million records pays one
 * Argon2id instead of a million. `runs` counts the Argon2id calls (what the tests and --json report).
 */
export class BatchCache {
  private readonly cache = new Map<string, Promise<BatchKdf>>();
  runs = 0;

  constructor(private readonly stretch?: Stretch) {}

  get(sequenceKey: string, salt: Uint8Array, kdf: KdfParams): Promise<BatchKdf> {
    const key = parseSequenceKey(sequenceKey);
    const id = `${key.text}\u0000${toHex(salt)}\u0000${kdf.memoryKiB}/${kdf.passes}/${kdf.parallelism}`;
    let hit = this.cache.get(id);
    if (!hit) {
      this.runs++;
      hit = stretchForBatch(key, kdf, { salt, stretch: this.stretch });
      this.cache.set(id, hit);
    }
    return hit;
  }

  /** Wipes every X at the end of the run. */
  async clear(): Promise<void> {
    const all = await Promise.allSettled(this.cache.values());
    for (const r of all) if (r.status === 'fulfilled') r.value.stretched.fill(0);
    this.cache.clear();
  }
}
