import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FragmentHashes, type HashedObject } from '../../../src/workers/fragment-hashes.js';
import { caught } from '../core/helpers.js';

const sha = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('base64');
const filled = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

/** Three objects over a 1000-byte envelope, each with its own head, prefix and tail. */
function layout(): { envelope: Uint8Array; objects: HashedObject[] } {
  const envelope = filled(1000, 1);
  const cuts = [0, 333, 700, 1000];
  const objects = [0, 1, 2].map((i) => ({ head: filled(76, 10 + i), sealedPrefix: filled(9, 20 + i), payloadStart: cuts[i]!, payloadEnd: cuts[i + 1]!, sealedTail: [filled(40, 30 + i), filled(3, 40 + i)] }));
  return { envelope, objects };
}

describe('fragment hashes from the envelope as it is produced', () => {
  it.each([
    ['one WebCrypto digest per object', undefined],
    ['hash-wasm, incrementally, for objects over the one-shot size', 100],
    ['both, by object size', 470],
  ])('gives each object the SHA-256 of head ‖ prefix ‖ payload ‖ tail, whatever order the segments arrive in: %s', async (_, oneShotMax) => {
    const { envelope, objects } = layout();
    const expected = objects.map((o) => sha(o.head, o.sealedPrefix, envelope.subarray(o.payloadStart, o.payloadEnd), ...o.sealedTail));
    const hashes = await FragmentHashes.create(objects, oneShotMax);
    // Segments of 250 bytes, arriving 2, 0, 3, 1; the last split into two pieces.
    hashes.add(500, envelope.subarray(500, 750));
    hashes.add(0, envelope.subarray(0, 250));
    hashes.addAll(750, [envelope.subarray(750, 900), envelope.subarray(900, 1000)]);
    hashes.add(250, envelope.subarray(250, 500));
    expect(await hashes.finish()).toEqual(expected);
  });

  it('refuses to finish before the whole envelope was seen', async () => {
    const { envelope, objects } = layout();
    const hashes = await FragmentHashes.create(objects);
    hashes.add(0, envelope.subarray(0, 900));
    expect((await caught(() => hashes.finish())).code).toBe('INPUT_INVALID');
  });
});
