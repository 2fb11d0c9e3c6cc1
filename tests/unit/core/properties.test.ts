/**
 * The acceptance properties of format 2, checked with fast-check over arbitrary bodies (1–20 KB), chunk
 * sizes (64–4096) and sequence keys (8–16 allowed characters: ASCII, accented, CJK and non-BMP), plus
 * deterministic statistics over many records: the sealed objects carry no trace of the sequence key or
 * the envelope.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEAD_LENGTH, concatBytes, objectBodyLength, openRecord, parseSequenceKey, protectRecord, toHex, validateSequenceKey, type RecordMetadata } from '../../../src/core/index.js';
import { ALL_ERROR_CODES, TEST_KDF, caught, fileMetadata, indexOfBytes, memoStretch, seededRandom, utf8 } from './helpers.js';

const POOL = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  'é',
  'ß',
  'Ж',
  '中',
  '文',
  '→',
  '€',
  '😀',
  '🩺',
  '𝄞',
  '𐐷',
];

const sequenceKeyArb = fc
  .uniqueArray(fc.constantFrom(...POOL), { minLength: 8, maxLength: 16 })
  .map((chars) => chars.join(''))
  .filter((text) => validateSequenceKey(text).ok);

/** A body of 1–20 KB and a chunk size of 64–4096 (sometimes exactly one chunk or a multiple of it). */
const bodyArb = fc.integer({ min: 64, max: 4096 }).chain((chunkSize) =>
  fc.record({
    chunkSize: fc.constant(chunkSize),
    body: fc
      .oneof(fc.integer({ min: 1024, max: 20 * 1024 }), fc.constant(Math.max(1024, chunkSize)), fc.constant(Math.max(1, Math.floor(4096 / chunkSize)) * chunkSize))
      .chain((size) => fc.uint8Array({ minLength: size, maxLength: size })),
  }),
);

const recordKeyArb = fc.uint8Array({ minLength: 16, maxLength: 16 });
const metadataFor = (body: Uint8Array): RecordMetadata => fileMetadata(body.length, 'record.bin');
/** The property tests open each record more than once: Argon2id is memoised (same results, less time). */
const stretch = memoStretch();
const protect = (body: Uint8Array, text: string, recordKey: Uint8Array, chunkSize: number) => protectRecord([body], metadataFor(body), text, { chunkSize, recordKey, kdf: TEST_KDF, parity: 0, stretch });

describe('acceptance properties', () => {
  it('every generated sequence key is valid and has its length in code points', () => {
    fc.assert(
      fc.property(sequenceKeyArb, (text) => {
        const key = parseSequenceKey(text);
        expect(key.n).toBe(Array.from(text).length);
        expect(key.n).toBeGreaterThanOrEqual(8);
        expect(key.n).toBeLessThanOrEqual(16);
      }),
      { numRuns: 200 },
    );
  });

  it('protect → open is the identity on bodies and metadata; every object is 92 + B bytes', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, async ({ chunkSize, body }, text, recordKey) => {
        const record = await protect(body, text, recordKey, chunkSize);
        const n = record.sequenceKey.n;
        expect(record.objects).toHaveLength(n);
        for (const o of record.objects) expect(o.length).toBe(HEAD_LENGTH + objectBodyLength(record.envelopeLength, n));
        const opened = await openRecord(record.objects, text, recordKey, record.recordId, { stretch });
        expect(toHex(opened.body)).toBe(toHex(body));
        expect(opened.metadata).toEqual(metadataFor(body));
      }),
      { numRuns: 25 },
    );
  });

  it('any permutation of the objects opens', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, fc.array(fc.nat(), { minLength: 16, maxLength: 16 }), async ({ chunkSize, body }, text, recordKey, ranks) => {
        const record = await protect(body, text, recordKey, chunkSize);
        const shuffled = record.objects.map((o, i) => [o, ranks[i]! * 100 + i] as const).sort((a, b) => a[1] - b[1]).map(([o]) => o);
        const opened = await openRecord(shuffled, text, recordKey, record.recordId, { stretch });
        expect(toHex(opened.body)).toBe(toHex(body));
      }),
      { numRuns: 15 },
    );
  });

  it('any single changed byte anywhere in any object is a typed error naming that object, never garbage', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyArb,
        sequenceKeyArb,
        recordKeyArb,
        fc.nat(),
        fc.oneof(fc.nat(), fc.nat({ max: 2 * HEAD_LENGTH })),
        fc.integer({ min: 1, max: 255 }),
        async ({ chunkSize, body }, text, recordKey, which, where, mask) => {
          const record = await protect(body, text, recordKey, chunkSize);
          const target = which % record.objects.length;
          const bytes = record.objects[target]!.slice();
          const at = where % bytes.length;
          bytes[at]! ^= mask;
          const spoiled = record.objects.map((o, i) => (i === target ? bytes : o));
          let opened: unknown;
          const error = await caught(async () => (opened = await openRecord(spoiled, text, recordKey, record.recordId, { stretch })));
          expect(opened).toBeUndefined();
          expect(ALL_ERROR_CODES).toContain(error.code);
          if (at < HEAD_LENGTH) {
            // The head is authenticated with K alone (§9 step 4).
            expect(error.code).toBe('FRAGMENT_FOREIGN');
            expect(error.details.sources).toEqual([target]);
          } else {
            // The body: the frame by its MAC, the payload by AES-GCM, the padding by the zero check.
            expect(error.code).toBe('FRAGMENT_TAMPERED');
            expect(error.details.indexChars).toContain(record.sequenceKey.chars[target]);
            expect(error.details.sources).toContain(target);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('any dropped object is FRAGMENT_MISSING naming exactly its character', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, fc.nat(), async ({ chunkSize, body }, text, recordKey, which) => {
        const record = await protect(body, text, recordKey, chunkSize);
        const dropped = which % record.objects.length;
        const rest = record.objects.filter((_, i) => i !== dropped);
        const error = await caught(() => openRecord(rest, text, recordKey, record.recordId, { stretch }), 'FRAGMENT_MISSING');
        expect(error.details).toEqual({ missing: [record.sequenceKey.chars[dropped]], positions: [dropped] });
      }),
      { numRuns: 15 },
    );
  });
});

describe('what the objects do not show (deterministic statistics over many records)', () => {
  it('first and last bytes match the index characters no more often than chance; no object contains "EHRV", the name or the body', async () => {
    // Format 1 put s_j at an object's first byte and s_{j+1} at its last; a sealed object must look random.
    // 200 records × 8 objects with a fixed seed: the chance rate is 1/256 per byte position, so about 6
    // hits are expected; the bound (3× chance) is never reached by random bytes with this seed, or
    // practically any other (Poisson(6.25) ≥ 19 has probability < 10⁻⁴).
    const random = seededRandom(20_261_129);
    const RECORDS = 200;
    let ownFirst = 0;
    let nextLast = 0;
    let anyKeyByte = 0;
    let anyKeyByteChance = 0;
    let objects = 0;
    const magic = utf8('EHRV');
    for (let r = 0; r < RECORDS; r++) {
      const key = ['adk21937', 'Qw7#zR2!', 'é中😀abcdß'][r % 3]!;
      const name = `Jane-Doe-${r}-MRI.dcm`;
      const body = random(100 + (r % 50));
      const record = await protectRecord([body], { kind: 'file', name, mime: 'application/dicom', byteLength: body.length }, key, { chunkSize: 64, kdf: TEST_KDF, parity: 0, randomBytes: random, stretch });
      const chars = record.sequenceKey.chars;
      const keyBytes = new Set(chars.flatMap((c) => Array.from(utf8(c))));
      for (const [j, o] of record.objects.entries()) {
        objects++;
        const own = utf8(chars[j]!);
        const next = utf8(chars[(j + 1) % chars.length]!);
        if (o[0] === own[0]) ownFirst++;
        if (o[o.length - 1] === next[next.length - 1]) nextLast++;
        if (keyBytes.has(o[0]!)) anyKeyByte++;
        anyKeyByteChance += keyBytes.size / 256;
        expect(indexOfBytes(o, magic)).toBe(-1);
      }
      const all = concatBytes(record.objects);
      expect(indexOfBytes(all, utf8(name))).toBe(-1);
      expect(indexOfBytes(all, utf8('dicom'))).toBe(-1);
      expect(indexOfBytes(all, body.subarray(0, 16))).toBe(-1);
      expect(indexOfBytes(all, record.recordKey)).toBe(-1);
    }
    const chance = objects / 256;
    expect(ownFirst).toBeLessThan(3 * chance);
    expect(nextLast).toBeLessThan(3 * chance);
    // Any byte of the key's characters at the first byte: no more than chance allows either.
    expect(anyKeyByte).toBeLessThan(3 * anyKeyByteChance);
  }, 60_000);
});
