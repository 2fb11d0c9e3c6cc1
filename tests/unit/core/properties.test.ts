/**
 * The acceptance properties, checked with fast-check over arbitrary bodies (empty and exactly-one-chunk
 * sizes included) and arbitrary valid sequence keys (ASCII, accented, CJK and astral characters, 8–64 long).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EhrVaultError,
  deriveRecordKeys,
  mergeFragments,
  openRecord,
  parseSequenceKey,
  protectRecord,
  splitEnvelope,
  toHex,
  validateSequenceKey,
  type ErrorCode,
  type RecordMetadata,
} from '../../../src/core/index.js';
import { ALL_ERROR_CODES, caught, fileMetadata, flipBit, sealToBytes } from './helpers.js';

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
];

const sequenceKeyArb = fc
  .uniqueArray(fc.constantFrom(...POOL), { minLength: 8, maxLength: 64 })
  .map((chars) => chars.join(''))
  .filter((text) => validateSequenceKey(text).ok);

const CHUNK_SIZES = [64, 128, 1000] as const;

/** A body whose size is 0, exactly one chunk, or anything up to four chunks, with its chunk size. */
const bodyArb = fc.constantFrom(...CHUNK_SIZES).chain((chunkSize) =>
  fc.record({
    chunkSize: fc.constant(chunkSize),
    body: fc
      .oneof(fc.constant(0), fc.constant(chunkSize), fc.integer({ min: 0, max: 4 * chunkSize }))
      .chain((size) => fc.uint8Array({ minLength: size, maxLength: size })),
  }),
);

const bitArb = fc.oneof(
  fc.record({ region: fc.constant('any' as const), n: fc.nat() }),
  fc.record({ region: fc.constant('head' as const), n: fc.nat({ max: 50 * 8 - 1 }) }),
  fc.record({ region: fc.constant('tail' as const), n: fc.nat({ max: 31 }) }),
);

const recordKeyArb = fc.uint8Array({ minLength: 16, maxLength: 16 });

const metadataFor = (body: Uint8Array): RecordMetadata => fileMetadata(body.length, 'record.bin');

/** What a single flipped bit may be reported as (see fragments.test.ts for which field gives which). */
const BIT_FLIP_CODES: readonly ErrorCode[] = [
  'FRAGMENT_MALFORMED',
  'FRAGMENT_UNSUPPORTED',
  'FRAGMENT_TRUNCATED',
  'FRAGMENT_FOREIGN',
  'FRAGMENT_TAMPERED',
];

describe('acceptance properties', () => {
  it('every generated sequence key is valid and has its length in code points', () => {
    fc.assert(
      fc.property(sequenceKeyArb, (text) => {
        const key = parseSequenceKey(text);
        expect(key.n).toBe(Array.from(text).length);
        expect(key.n).toBeGreaterThanOrEqual(8);
        expect(key.n).toBeLessThanOrEqual(64);
      }),
      { numRuns: 200 },
    );
  });

  it('split → merge is the identity on envelopes', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, async ({ chunkSize, body }, text, recordKey) => {
        const keys = await deriveRecordKeys(recordKey);
        const key = parseSequenceKey(text);
        const envelope = await sealToBytes(keys, metadataFor(body), [body], { chunkSize });
        const fragments = await splitEnvelope(keys, key, envelope);
        expect(fragments.map((f) => f.indexChar)).toEqual(key.chars);
        const merged = await mergeFragments(keys, key, fragments.map((f) => f.bytes));
        expect(toHex(merged.envelope)).toBe(toHex(envelope));
      }),
      { numRuns: 100 },
    );
  });

  it('encrypt → decrypt is the identity on bodies and metadata', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, async ({ chunkSize, body }, text, recordKey) => {
        const metadata = metadataFor(body);
        const record = await protectRecord([body], metadata, text, { chunkSize, recordKey });
        const opened = await openRecord(record.fragments.map((f) => f.bytes), text, recordKey);
        expect(toHex(opened.body)).toBe(toHex(body));
        expect(opened.metadata).toEqual(metadata);
      }),
      { numRuns: 100 },
    );
  });

  it('shuffled fragments still merge and open', async () => {
    await fc.assert(
      fc.asyncProperty(
        bodyArb,
        sequenceKeyArb,
        recordKeyArb,
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        async ({ chunkSize, body }, text, recordKey, ranks) => {
          const record = await protectRecord([body], metadataFor(body), text, { chunkSize, recordKey });
          const n = record.fragments.length;
          const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ranks[a]! - ranks[b]! || a - b);
          const shuffled = order.map((i) => record.fragments[i]!.bytes);
          const merged = await mergeFragments(await deriveRecordKeys(recordKey), record.sequenceKey, shuffled);
          expect(merged.order.map((f) => f.source)).toEqual(Array.from({ length: n }, (_, i) => order.indexOf(i)));
          const opened = await openRecord(shuffled, text, recordKey);
          expect(toHex(opened.body)).toBe(toHex(body));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('any single flipped bit in any fragment is rejected with a typed error and no result', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, fc.nat(), bitArb, async ({ chunkSize, body }, text, recordKey, which, bitChoice) => {
        const record = await protectRecord([body], metadataFor(body), text, { chunkSize, recordKey });
        const target = which % record.fragments.length;
        const bytes = record.fragments[target]!.bytes;
        const bits = bytes.length * 8;
        // Anywhere, or biased to the frame: the first 50 bytes (index character and header) or the last 4 (next character).
        const bit = bitChoice.region === 'tail' ? bits - 1 - (bitChoice.n % 32) : bitChoice.n % bits;
        const spoiled = record.fragments.map((f, i) => (i === target ? flipBit(bytes, bit) : f.bytes));
        const error = await caught(() => openRecord(spoiled, text, recordKey));
        expect(error).toBeInstanceOf(EhrVaultError);
        expect(ALL_ERROR_CODES).toContain(error.code);
        expect(BIT_FLIP_CODES).toContain(error.code);
      }),
      { numRuns: 300 },
    );
  });

  it('any dropped fragment is reported as FRAGMENT_MISSING naming exactly its character', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, sequenceKeyArb, recordKeyArb, fc.nat(), async ({ chunkSize, body }, text, recordKey, which) => {
        const record = await protectRecord([body], metadataFor(body), text, { chunkSize, recordKey });
        const dropped = which % record.fragments.length;
        const rest = record.fragments.filter((_, i) => i !== dropped).map((f) => f.bytes);
        const error = await caught(() => openRecord(rest, text, recordKey), 'FRAGMENT_MISSING');
        expect(error.details.missing).toEqual([record.sequenceKey.chars[dropped]]);
        expect(error.details.positions).toEqual([dropped]);
      }),
      { numRuns: 100 },
    );
  });
});
