/**
 * Parity folded in while the data bodies are produced (parity-accumulator.ts) gives exactly the parity
 * bodies that reading the data bodies back gives (parity.ts computeParityBodies, FORMAT.md §4.4), whatever
 * order the pieces arrive in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/core/bytes.js';
import { deriveParityKey } from '../../../src/core/keychain.js';
import { computeParityBodies } from '../../../src/core/parity.js';
import { ParityAccumulator, type AccumulatedObject } from '../../../src/core/parity-accumulator.js';
import { pseudoRandomBytes } from './helpers.js';

/** n objects over an envelope of `envelopeLength` bytes, each body `bodyLength` long: prefix ‖ payload ‖ tail. */
function layout(n: number, envelopeLength: number, prefixLength: number, seed: number) {
  const cut = Math.ceil(envelopeLength / n);
  const bodyLength = prefixLength + cut + 3;
  const envelope = pseudoRandomBytes(envelopeLength, seed);
  const objects: AccumulatedObject[] = Array.from({ length: n }, (_, j) => {
    const payloadStart = Math.min(envelopeLength, j * cut);
    const payloadEnd = Math.min(envelopeLength, (j + 1) * cut);
    const tailLength = bodyLength - prefixLength - (payloadEnd - payloadStart);
    const tail = pseudoRandomBytes(tailLength, seed + 100 + j);
    // Tails come in pieces, as seal-objects.ts makes them.
    const half = Math.floor(tail.length / 2);
    return { payloadStart, payloadEnd, prefixLength, sealedPrefix: pseudoRandomBytes(prefixLength, seed + 50 + j), sealedTail: [tail.subarray(0, half), tail.subarray(half)] };
  });
  const bodies = objects.map((o) => concatBytes([o.sealedPrefix, envelope.subarray(o.payloadStart, o.payloadEnd), ...o.sealedTail]));
  return { envelope, objects, bodies, bodyLength };
}

async function readBack(n: number, p: number, bodyLength: number, bodies: Uint8Array[], key: CryptoKey): Promise<Uint8Array[]> {
  const out = Array.from({ length: p }, () => new Uint8Array(bodyLength));
  await computeParityBodies(key, n, p, bodyLength, async (slot, start, end) => bodies[slot]!.subarray(start, end), (r, offset, bytes) => out[r]!.set(bytes, offset));
  return out;
}

describe('ParityAccumulator', () => {
  it('gives the read-back parity bodies for pieces in any order (property)', async () => {
    const key = await deriveParityKey(new Uint8Array(16).fill(7));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 9 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        async (n, p, envelopeLength, prefixLength, cuts, seed) => {
          const { envelope, objects, bodies, bodyLength } = layout(n, envelopeLength, prefixLength, seed);
          const pieces: [number, Uint8Array][] = [];
          for (let at = 0, i = 0; at < envelope.length; i++) {
            const end = Math.min(envelope.length, at + cuts[i % cuts.length]!);
            pieces.push([at, envelope.subarray(at, end)]);
            at = end;
          }
          // A fixed shuffle from the seed: segments finish in any order.
          pieces.sort((a, b) => ((a[0] * 2654435761) ^ seed) - ((b[0] * 2654435761) ^ seed));
          const accumulator = new ParityAccumulator(n, p, bodyLength, objects);
          for (const [at, bytes] of pieces) accumulator.add(at, bytes);
          const folded = (await accumulator.finish(key, 333)).map((parts) => concatBytes(parts));
          expect(folded).toEqual(await readBack(n, p, bodyLength, bodies, key));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses to finish when a byte is missing or given twice', async () => {
    const key = await deriveParityKey(new Uint8Array(16).fill(3));
    const { envelope, objects, bodyLength } = layout(4, 1000, 5, 9);
    const short = new ParityAccumulator(4, 2, bodyLength, objects);
    short.add(0, envelope.subarray(0, 999));
    await expect(short.finish(key)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    const twice = new ParityAccumulator(4, 2, bodyLength, objects);
    twice.add(0, envelope);
    twice.add(10, envelope.subarray(10, 20));
    await expect(twice.finish(key)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});
