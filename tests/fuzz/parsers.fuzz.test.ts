/**
 * Differential fuzzing of the structural parsers against oracles written from docs/FORMAT.md
 * (tests/fuzz/reference.ts): random bytes, structured frames and headers with every field at its edges
 * (n = 0/1/65535, payload lengths near 2^53 and 2^64, chunk size 0 and 2^32−1, huge metadata lengths,
 * other versions), and real fragments damaged by the mutation operators. For every input the parser must
 * return exactly what the spec says or throw the typed error the spec names.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAGMENT_HEAD_MAX, FRAGMENT_TAIL_MAX, parseEnvelopeHeader, parseFragment, parseFragmentFrame, toHex, type ParsedFragment } from '../../src/core/index.js';
import { applyFragmentOp, fragmentOpArb, makeFixtures, type Fixture } from './fixtures.js';
import {
  INDEX_CHAR_BYTES,
  PARSE_CODES,
  count,
  edgeU16Arb,
  edgeU32Arb,
  edgeU64Arb,
  edgeU8Arb,
  embedAt,
  expectTypedError,
  installAllocationGuard,
  runs,
  settleSync,
  summary,
  timeoutFor,
  type Outcome,
} from './harness.js';
import { referenceParseFragment, referenceParseHeader } from './reference.js';

const PARSE_WEIGHT = 25;

let fixtures: Fixture[];
let restoreGuard: () => void;

beforeAll(async () => {
  fixtures = await makeFixtures();
  restoreGuard = installAllocationGuard();
});

afterAll(() => {
  restoreGuard?.();
  console.log(summary('parsers.fuzz.test.ts'));
});

// ---------------------------------------------------------------------------------------------------------
// Fragment inputs

const VALID_CHARS: readonly (readonly number[])[] = [[0x61], [0x39], [0xc3, 0xa9], [0xe4, 0xb8, 0xad], [0xf0, 0x9f, 0x98, 0x80]];
const charArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...VALID_CHARS) }, { weight: 2, arbitrary: fc.constantFrom(...INDEX_CHAR_BYTES) });

function u64Bytes(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(8 * (7 - i))) & 0xffn));
}

/** A fragment built field by field, each field usually valid and sometimes at an edge. */
const structuredFragmentArb = fc
  .record({
    own: charArb,
    version: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: edgeU8Arb }),
    flags: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: edgeU8Arb }),
    n: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 8, max: 64 }) }, { weight: 2, arbitrary: edgeU16Arb }),
    position: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 63 }) }, { weight: 2, arbitrary: edgeU16Arb }),
    payload: fc.uint8Array({ maxLength: 40 }),
    length: fc.oneof(
      { weight: 6, arbitrary: fc.constant('exact' as const) },
      { weight: 2, arbitrary: fc.integer({ min: -6, max: 6 }) },
      { weight: 2, arbitrary: edgeU64Arb },
    ),
    tagAndMac: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    next: fc.oneof({ weight: 5, arbitrary: charArb }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map((b) => Array.from(b)) }),
    end: fc.oneof(
      { weight: 6, arbitrary: fc.constant({ cut: undefined as number | undefined, extra: new Uint8Array(0) }) },
      { weight: 1, arbitrary: fc.record({ cut: fc.nat(), extra: fc.constant(new Uint8Array(0)) }) },
      { weight: 1, arbitrary: fc.record({ cut: fc.constant(undefined), extra: fc.uint8Array({ minLength: 1, maxLength: 5 }) }) },
    ),
  })
  .map((f) => {
    const position = f.position % Math.max(1, f.n);
    const length = f.length === 'exact' ? BigInt(f.payload.length) : typeof f.length === 'number' ? BigInt(Math.max(0, f.payload.length + f.length)) : f.length;
    const bytes = Uint8Array.from([
      ...f.own,
      f.version,
      f.flags,
      f.n >> 8,
      f.n & 0xff,
      (f.position < 64 ? position : f.position) >> 8,
      (f.position < 64 ? position : f.position) & 0xff,
      ...u64Bytes(length),
      ...f.tagAndMac,
      ...f.payload,
      ...f.next,
      ...f.end.extra,
    ]);
    return f.end.cut === undefined ? bytes : bytes.subarray(0, f.end.cut % (bytes.length + 1));
  });

/** Compares without vitest's expect on the hot path (it costs more than the parse); fails with every difference. */
function checkParsed(outcome: Outcome<ParsedFragment>, bytes: Uint8Array, source: number): void {
  const ref = referenceParseFragment(bytes);
  const where = `fragment ${toHex(bytes.subarray(0, 64))}${bytes.length > 64 ? '…' : ''} (${bytes.length} bytes)`;
  if (!ref.ok) {
    const error = expectTypedError(outcome, PARSE_CODES, where);
    if (error.code !== ref.code || error.details.source !== source) expect.fail(`${where}: got ${error.code} (source ${String(error.details.source)}), the spec says ${ref.code}`);
    return;
  }
  if (!outcome.ok) expect.fail(`the spec accepts ${where} but the parser threw ${String(outcome.error)}`);
  const p = outcome.value;
  const actual = {
    indexChar: p.indexChar,
    nextChar: p.nextChar,
    version: p.version,
    flags: p.flags,
    n: p.n,
    position: p.position,
    payloadLength: p.payloadLength,
    payloadOffset: p.payloadOffset,
    source: p.source,
    recordTag: toHex(p.recordTag),
    headerMac: toHex(p.headerMac),
    prefix: toHex(p.prefix),
    suffix: toHex(p.suffix),
  };
  const expected = {
    indexChar: ref.indexChar,
    nextChar: ref.nextChar,
    version: 1,
    flags: 0,
    n: ref.n,
    position: ref.position,
    payloadLength: ref.payloadLength,
    payloadOffset: ref.payloadOffset,
    source,
    recordTag: toHex(ref.recordTag),
    headerMac: toHex(ref.headerMac),
    prefix: toHex(bytes.subarray(0, ref.payloadOffset)),
    suffix: toHex(bytes.subarray(bytes.length - ref.suffixLength)),
  };
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual, where).toEqual(expected);
}

/** parseFragment, parseFragmentFrame from the first 50 and last 4 bytes, and a view at an offset must all agree with the spec. */
function checkAllParsers(bytes: Uint8Array): void {
  const source = bytes.length % 5;
  const direct = settleSync(() => parseFragment(bytes, source));
  count('parseFragment', direct);
  checkParsed(direct, bytes, source);
  const head = bytes.subarray(0, FRAGMENT_HEAD_MAX);
  const tail = bytes.subarray(Math.max(0, bytes.length - FRAGMENT_TAIL_MAX));
  const framed = settleSync(() => parseFragmentFrame(head, tail, bytes.length, source));
  count('parseFragmentFrame', framed);
  checkParsed(framed, bytes, source);
  checkParsed(settleSync(() => parseFragment(embedAt(bytes, 3 + source), source)), bytes, source);
}

describe('fuzz: parseFragment / parseFragmentFrame against FORMAT.md §7', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 90 }), (bytes) => checkAllParsers(bytes)),
      runs(PARSE_WEIGHT / 5),
    );
  }, timeoutFor(PARSE_WEIGHT / 5, 0.2));

  it('structured frames with every field valid or at an edge (n 0/1/65535, lengths near 2^53 and 2^64, other versions)', () => {
    fc.assert(
      fc.property(structuredFragmentArb, (bytes) => checkAllParsers(bytes)),
      runs(PARSE_WEIGHT),
    );
  }, timeoutFor(PARSE_WEIGHT, 0.2));

  it('real fragments (1–4 fragments of every fixture) damaged by 1–3 mutations', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(fragmentOpArb, { minLength: 1, maxLength: 3 }), (which, ops) => {
        const f = fixtures[which % fixtures.length]!;
        let list: Uint8Array[] = [f.fragments[which % f.fragments.length]!];
        for (const op of ops) list = applyFragmentOp(list, op, fixtures);
        for (const bytes of list.slice(0, 4)) checkAllParsers(bytes);
      }),
      runs(PARSE_WEIGHT / 2),
    );
  }, timeoutFor(PARSE_WEIGHT / 2, 0.5));

  it('the reference oracle agrees with the parser on untouched fragments of every fixture', () => {
    for (const f of fixtures) {
      for (const bytes of f.fragments) {
        const ref = referenceParseFragment(bytes);
        expect(ref.ok).toBe(true);
        checkAllParsers(bytes);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Envelope headers

const headerArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  {
    weight: 6,
    arbitrary: fc
      .record({
        magic: fc.oneof({ weight: 8, arbitrary: fc.constant([0x45, 0x48, 0x52, 0x56]) }, { weight: 1, arbitrary: fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }) }),
        version: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: edgeU8Arb }),
        algorithm: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: edgeU8Arb }),
        flags: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: edgeU16Arb }),
        chunkSize: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 64, max: 16_777_216 }) }, { weight: 1, arbitrary: edgeU32Arb }),
        metadataLength: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 256 }).map((k) => 16 + 256 * k) }, { weight: 1, arbitrary: edgeU32Arb }),
        noncePrefix: fc.uint8Array({ minLength: 7, maxLength: 7 }),
        reserved: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: edgeU8Arb }),
        commitment: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        extra: fc.uint8Array({ maxLength: 24 }),
        cut: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 39 }) }),
      })
      .map((h) => {
        const bytes = new Uint8Array(40 + h.extra.length);
        const view = new DataView(bytes.buffer);
        bytes.set(h.magic, 0);
        bytes[4] = h.version;
        bytes[5] = h.algorithm;
        view.setUint16(6, h.flags);
        view.setUint32(8, h.chunkSize);
        view.setUint32(12, h.metadataLength);
        bytes.set(h.noncePrefix, 16);
        bytes[23] = h.reserved;
        bytes.set(h.commitment, 24);
        bytes.set(h.extra, 40);
        return h.cut === null ? bytes : bytes.subarray(0, h.cut);
      }),
  },
);

describe('fuzz: parseEnvelopeHeader against FORMAT.md §3', () => {
  it('random and structured headers (chunk size 0 … 2^32−1, metadata length up to 2^32−1, other versions)', () => {
    fc.assert(
      fc.property(headerArb, fc.nat({ max: 9 }), (bytes, offset) => {
        const input = offset === 0 ? bytes : embedAt(bytes, offset);
        const ref = referenceParseHeader(bytes);
        const outcome = settleSync(() => parseEnvelopeHeader(input));
        count('parseEnvelopeHeader', outcome);
        if (!ref.ok) {
          const error = expectTypedError(outcome, ['ENVELOPE_MALFORMED', 'ENVELOPE_UNSUPPORTED'], `header ${toHex(bytes)}`);
          if (error.code !== ref.code) expect.fail(`header ${toHex(bytes)}: got ${error.code}, the spec says ${ref.code}`);
          return;
        }
        if (!outcome.ok) expect.fail(`the spec accepts this header but the parser threw ${String(outcome.error)}: ${toHex(bytes)}`);
        const header = outcome.value;
        const expected = toHex(bytes.subarray(0, 40));
        const actual = [header.version, header.algorithm, header.flags, header.chunkSize, header.metadataLength, toHex(header.bytes), toHex(header.noncePrefix), toHex(header.commitment)];
        const wanted = [1, 1, 0, ref.chunkSize, ref.metadataLength, expected, toHex(bytes.subarray(16, 23)), toHex(bytes.subarray(24, 40))];
        if (JSON.stringify(actual) !== JSON.stringify(wanted)) expect(actual).toEqual(wanted);
        // The parsed header is a copy: later changes to the caller's buffer do not reach it.
        input[30] = (input[30]! + 1) & 0xff;
        if (toHex(header.bytes) !== expected) expect.fail('parseEnvelopeHeader returned a view of the caller\'s buffer, not a copy');
        input[30] = (input[30]! + 255) & 0xff;
      }),
      runs(PARSE_WEIGHT),
    );
  }, timeoutFor(PARSE_WEIGHT, 0.2));
});
