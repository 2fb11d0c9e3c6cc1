/**
 * What leaks to the cloud (FORMAT.md §4.5, docs/SECURITY.md), shown rather than asserted in prose. Format 1
 * let anyone holding the fragments read the whole sequence key, the order and the envelope; format 2 seals
 * every fragment into an object that looks random without the keys. From the objects alone an observer
 * learns their number (n + p), their common length 92 + B (the envelope length only up to Padmé's bucket),
 * and nothing else: no index character, no order, no "EHRV" magic, no name, no body bytes, no key bytes.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAD_LENGTH, concatBytes, padme, protectRecord, toHex, validateSequenceKey } from '../../src/core/index.js';
import { TEST_KDF, indexOfBytes, utf8 } from '../unit/core/helpers.js';
import { fuzzStretch } from './fixtures.js';
import { count, runs, summary, timeoutFor } from './harness.js';

afterAll(() => {
  console.log(summary('leakage.fuzz.test.ts'));
});

const POOL = [...'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#$%&*+-=?@^~', 'é', 'ß', 'Ж', '中', '→', '€', '😀', '🩺', '𝄞'];
const sequenceKeyArb = fc
  .uniqueArray(fc.constantFrom(...POOL), { minLength: 8, maxLength: 64 })
  .map((chars) => chars.join(''))
  .filter((text) => validateSequenceKey(text).ok);

/** The format-1 observer: read s_j from each fragment's first bytes. On sealed objects it must fail. */
function readIndexCharacters(objects: readonly Uint8Array[]): string | undefined {
  try {
    return objects.map((o) => new TextDecoder('utf-8', { fatal: true }).decode(o.subarray(0, 1))).join('');
  } catch {
    return undefined;
  }
}

describe('what the objects reveal without any key', () => {
  it(
    'their number and one common length (the envelope length only up to Padmé); not the key, the order, the magic, the name or the body',
    async () => {
      await fc.assert(
        fc.asyncProperty(sequenceKeyArb, fc.integer({ min: 0, max: 3_000 }), fc.constantFrom(64, 1_000, 524_288), async (sequenceKey, size, chunkSize) => {
          const body = crypto.getRandomValues(new Uint8Array(size));
          const name = `Jane-Doe-${size}-MRI.dcm`;
          const record = await protectRecord([body], { kind: 'file', name, mime: 'application/dicom', byteLength: size }, sequenceKey, { chunkSize, kdf: TEST_KDF, parity: 0, stretch: fuzzStretch });
          count('observer', 'case');
          const n = record.sequenceKey.n;
          const { objects } = record;
          // What the cloud sees: n objects of one length, fixed by Padmé(T) and n.
          expect(objects).toHaveLength(n);
          const lengths = new Set(objects.map((o) => o.length));
          expect([...lengths]).toEqual([HEAD_LENGTH + 52 + Math.ceil(padme(record.envelopeLength) / n)]);
          // Not the sequence key (format 1's observer read it off the first bytes) ...
          expect(readIndexCharacters(objects)).not.toBe(record.sequenceKey.text);
          // ... not the envelope's magic or the payloads in the clear ...
          const all = concatBytes(objects);
          expect(indexOfBytes(all, utf8('EHRV'))).toBe(-1);
          expect(indexOfBytes(all, record.envelope.subarray(56, 72))).toBe(-1);
          // ... not the name, the type, the body or the keys.
          expect(indexOfBytes(all, utf8(name))).toBe(-1);
          expect(indexOfBytes(all, utf8('dicom'))).toBe(-1);
          if (size >= 16) expect(indexOfBytes(all, body.subarray(0, 16))).toBe(-1);
          expect(toHex(all)).not.toContain(toHex(record.recordKey));
          expect(indexOfBytes(all, utf8(record.recordId))).toBe(-1);
          // Objects of one record share no 16-byte run with each other (no common header or frame in the clear).
          const probe = objects[0]!.subarray(HEAD_LENGTH, HEAD_LENGTH + 16);
          for (const other of objects.slice(1)) expect(indexOfBytes(other, probe)).toBe(-1);
        }),
        runs(0.5),
      );
    },
    timeoutFor(0.5, 20),
  );

  it(
    'the same body protected twice with one record key and sequence key (fresh record ids) seals to unrelated objects',
    async () => {
      // The record id salts every key of §3, so the object keystreams differ. (A writer must never reuse a
      // record key together with its id: the AES-CTR keystreams would repeat. protectRecord draws both fresh.)
      const body = new Uint8Array(500).fill(7);
      const recordKey = new Uint8Array(16).fill(1);
      const metadata = { kind: 'file', name: 'a', mime: '', byteLength: 500 } as const;
      const a = await protectRecord([body], metadata, 'adk21937', { chunkSize: 64, recordKey, recordId: 'AAAAAAAAAAAAAAAAAAAAAA', kdf: TEST_KDF, parity: 0, stretch: fuzzStretch });
      const b = await protectRecord([body], metadata, 'adk21937', { chunkSize: 64, recordKey, recordId: 'AAAAAAAAAAAAAAAAAAAAAQ', kdf: TEST_KDF, parity: 0, stretch: fuzzStretch });
      count('observer', 'pair');
      for (const [i, o] of a.objects.entries()) {
        const p = b.objects[i]!;
        expect(o.length).toBe(p.length);
        // Equal bytes only by chance (~1/256 per byte).
        let equal = 0;
        for (let k = 0; k < o.length; k++) if (o[k] === p[k]) equal++;
        expect(equal).toBeLessThan(o.length / 32);
      }
    },
    timeoutFor(0.01, 1),
  );
});
