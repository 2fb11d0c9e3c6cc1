/**
 * What leaks (docs/SECURITY.md §4, §6), shown rather than asserted in prose: from the fragments alone, in
 * any order and without any key, an observer recovers the whole sequence key, the fragment order, the
 * envelope, and the exact body length; the first payload starts with "EHRV". And what does not leak: the
 * file name and the body never appear in the fragments.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes, protectRecord, toHex, validateSequenceKey } from '../../src/core/index.js';
import { indexOfBytes, utf8 } from '../unit/core/helpers.js';
import { count, runs, summary, timeoutFor } from './harness.js';
import { leadLength } from './reference.js';

afterAll(() => {
  console.log(summary('leakage.fuzz.test.ts'));
});

const POOL = [...'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#$%&*+-=?@^~', 'é', 'ß', 'Ж', '中', '→', '€', '😀', '🩺'];
const sequenceKeyArb = fc
  .uniqueArray(fc.constantFrom(...POOL), { minLength: 8, maxLength: 64 })
  .map((chars) => chars.join(''))
  .filter((text) => validateSequenceKey(text).ok);

interface Observed {
  readonly sequenceKey: string;
  readonly envelope: Uint8Array;
  readonly byteLength: number;
}

/** What someone holding the fragments learns, using only FORMAT.md and no key. */
function observe(fragments: readonly Uint8Array[]): Observed {
  const frames = fragments.map((bytes) => {
    const own = leadLength(bytes[0]!);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const position = view.getUint16(own + 4);
    const payloadLength = Number(view.getBigUint64(own + 6));
    return { char: new TextDecoder().decode(bytes.subarray(0, own)), position, payload: bytes.subarray(own + 46, own + 46 + payloadLength) };
  });
  frames.sort((a, b) => a.position - b.position);
  const envelope = concatBytes(frames.map((f) => f.payload));
  // FORMAT.md §5: T = 40 + M + byteLength + 16·max(1, ⌈byteLength / C⌉), with C and M in the public header.
  const header = new DataView(envelope.buffer, envelope.byteOffset, 40);
  const chunkSize = header.getUint32(8);
  const metadataLength = header.getUint32(12);
  let byteLength = -1;
  for (let m = 1; m <= envelope.length; m++) {
    const candidate = envelope.length - 40 - metadataLength - 16 * m;
    if (candidate < 0) break;
    if (Math.max(1, Math.ceil(candidate / chunkSize)) === m) {
      byteLength = candidate;
      break;
    }
  }
  return { sequenceKey: frames.map((f) => f.char).join(''), envelope, byteLength };
}

describe('what the fragments reveal without any key', () => {
  it(
    'the sequence key, the order, the envelope and the exact body length; but not the name or the body',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          sequenceKeyArb,
          fc.integer({ min: 0, max: 3_000 }),
          fc.constantFrom(64, 1_000, 524_288),
          fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
          async (sequenceKey, size, chunkSize, ranks) => {
            const body = crypto.getRandomValues(new Uint8Array(size));
            const name = `Jane-Doe-${size}-MRI.dcm`;
            const record = await protectRecord([body], { kind: 'file', name, mime: 'application/dicom', byteLength: size }, sequenceKey, { chunkSize });
            const shuffled = record.fragments.map((f, i) => [f.bytes, ranks[i]! * 100 + i] as const).sort((a, b) => a[1] - b[1]).map(([bytes]) => bytes);
            const seen = observe(shuffled);
            count('observer', 'case');
            expect(seen.sequenceKey).toBe(sequenceKey.normalize('NFC'));
            expect(seen.envelope.length).toBe(record.envelopeLength);
            expect(new TextDecoder().decode(seen.envelope.subarray(0, 4))).toBe('EHRV');
            expect(seen.byteLength).toBe(size);
            const all = concatBytes(shuffled);
            expect(indexOfBytes(all, utf8(name))).toBe(-1);
            expect(indexOfBytes(all, utf8('dicom'))).toBe(-1);
            if (size >= 16) expect(indexOfBytes(all, body.subarray(0, 16))).toBe(-1);
            expect(toHex(all)).not.toContain(toHex(record.recordKey));
          },
        ),
        runs(0.5),
      );
    },
    timeoutFor(0.5, 20),
  );
});
