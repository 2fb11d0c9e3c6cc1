/**
 * Differential fuzzing of the structural parsers of format 2 against oracles written from docs/FORMAT.md
 * (tests/fuzz/reference.ts): object head fields (§4.1, §9 steps 5–6), frames inside unsealed bodies (§8,
 * §9 step 11; the MAC computed independently with node:crypto from the raw K_frag), envelope headers
 * (§5, §9 step 13) and Padmé (§4.3). Random bytes, and structured inputs with every field valid or at an
 * edge (n 0/1/65535, lengths near 2^53 and 2^64, Argon2id parameters at their limits, other versions). For
 * every input the parser must return exactly what the spec says or throw the typed error the spec names.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeHeadFields,
  deriveRecordKeys,
  deriveSecretBytes,
  padme,
  parseEnvelopeHeader,
  readFrameHead,
  readFrameTail,
  toHex,
  type HeadFields,
  type RecordKeys,
} from '../../src/core/index.js';
import { pseudoRandomBytes } from '../unit/core/helpers.js';
import {
  HEAD_CODES,
  INDEX_CHAR_BYTES,
  count,
  edgeU16Arb,
  edgeU32Arb,
  edgeU64Arb,
  edgeU8Arb,
  embedAt,
  expectTypedError,
  installAllocationGuard,
  runs,
  settle,
  settleSync,
  summary,
  timeoutFor,
} from './harness.js';
import { referenceChain, referenceFrame, referenceHead, referencePadme, referenceParseHeader } from './reference.js';

const PARSE_WEIGHT = 25;

let restoreGuard: () => void;
let keys: RecordKeys;
let fragKey: Uint8Array;

beforeAll(async () => {
  const recordKey = pseudoRandomBytes(16, 61);
  const recordId = pseudoRandomBytes(16, 62);
  const stretched = pseudoRandomBytes(32, 63);
  keys = await deriveRecordKeys(recordKey, recordId, stretched, pseudoRandomBytes(16, 64));
  fragKey = (await deriveSecretBytes(recordKey, recordId, stretched)).fragments;
  restoreGuard = installAllocationGuard();
});

afterAll(() => {
  restoreGuard?.();
  console.log(summary('parsers.fuzz.test.ts'));
});

function u64Bytes(value: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(8 * (7 - i))) & 0xffn));
}

// ---------------------------------------------------------------------------------------------------------
// Object head fields

const headFieldsArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 48, maxLength: 48 }) },
  {
    weight: 8,
    arbitrary: fc
      .record({
        version: fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: edgeU8Arb }),
        kind: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: edgeU8Arb }),
        n: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 8, max: 64 }) }, { weight: 1, arbitrary: edgeU16Arb }),
        p: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }) }, { weight: 1, arbitrary: edgeU16Arb }),
        slot: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 127 }) }, { weight: 1, arbitrary: edgeU16Arb }),
        kdf: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: edgeU8Arb }),
        parallelism: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: edgeU8Arb }),
        passes: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 16 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 17, 65_535) }),
        memoryKiB: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 8, max: 262_144 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 7, 262_145) }, { weight: 1, arbitrary: edgeU32Arb }),
        bodyLength: fc.oneof({ weight: 6, arbitrary: fc.bigInt({ min: 53n, max: 1n << 40n }) }, { weight: 2, arbitrary: edgeU64Arb }, { weight: 1, arbitrary: fc.constantFrom(52n, 53n, 2n ** 53n - 1n, 2n ** 53n) }),
        check: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        parityAlgorithm: fc.oneof({ weight: 6, arbitrary: fc.constant<number | undefined>(undefined) }, { weight: 1, arbitrary: edgeU8Arb }),
        reserved: fc.oneof({ weight: 8, arbitrary: fc.constant(new Uint8Array(7)) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 7, maxLength: 7 }) }),
      })
      .map((h) => {
        const bytes = new Uint8Array(48);
        const view = new DataView(bytes.buffer);
        // Mostly consistent: kind follows the slot, the slot lies below n + p, the algorithm follows p.
        const slot = h.slot < 128 ? h.slot % Math.max(1, Math.min(65_535, h.n + h.p)) : h.slot;
        const kind = h.kind <= 1 ? (slot >= h.n ? 1 : 0) : h.kind;
        bytes[0] = h.version;
        bytes[1] = kind;
        view.setUint16(2, h.n);
        view.setUint16(4, h.p);
        view.setUint16(6, slot);
        bytes[8] = h.kdf;
        bytes[9] = h.parallelism;
        view.setUint16(10, h.passes);
        view.setUint32(12, h.memoryKiB);
        bytes.set(u64Bytes(h.bodyLength), 16);
        bytes.set(h.check, 24);
        bytes[40] = h.parityAlgorithm ?? (h.p === 0 ? 0 : 1);
        bytes.set(h.reserved, 41);
        return bytes;
      }),
  },
);

function checkHead(bytes: Uint8Array, source: number): void {
  const ref = referenceHead(bytes);
  const outcome = settleSync(() => decodeHeadFields(bytes, source));
  count('decodeHeadFields', outcome);
  const where = `head fields ${toHex(bytes)}`;
  if (!ref.ok) {
    const error = expectTypedError(outcome, HEAD_CODES, where);
    if (error.code !== ref.code) expect.fail(`${where}: got ${error.code}, the spec says ${ref.code}`);
    if (JSON.stringify(error.details.sources) !== JSON.stringify([source])) expect.fail(`${where}: blamed ${JSON.stringify(error.details.sources)}, not [${source}]`);
    return;
  }
  if (!outcome.ok) expect.fail(`the spec accepts ${where} but decodeHeadFields threw ${String(outcome.error)}`);
  const h: HeadFields = outcome.value;
  const actual = [h.version, h.kind, h.n, h.parityCount, h.slot, h.kdf.parallelism, h.kdf.passes, h.kdf.memoryKiB, String(h.bodyLength), toHex(h.check), h.parityAlgorithm];
  const wanted = [2, ref.kind, ref.n, ref.p, ref.slot, ref.parallelism, ref.passes, ref.memoryKiB, String(ref.bodyLength), toHex(ref.check), ref.parityAlgorithm];
  if (JSON.stringify(actual) !== JSON.stringify(wanted)) expect(actual, where).toEqual(wanted);
}

describe('fuzz: decodeHeadFields against FORMAT.md §4.1 / §9 steps 5–6', () => {
  it('random and structured head fields (other versions, kinds, n, p, slots, Argon2id parameters, B near 2^53 and 2^64, reserved bytes)', () => {
    fc.assert(
      fc.property(headFieldsArb, fc.nat({ max: 70 }), fc.nat({ max: 9 }), (bytes, source, offset) => checkHead(offset === 0 ? bytes : embedAt(bytes, offset), source)),
      runs(PARSE_WEIGHT),
    );
  }, timeoutFor(PARSE_WEIGHT, 0.2));
});

// ---------------------------------------------------------------------------------------------------------
// Frames inside unsealed bodies

const VALID_CHARS: readonly (readonly number[])[] = [[0x61], [0x39], [0xc3, 0xa9], [0xe4, 0xb8, 0xad], [0xf0, 0x9f, 0x98, 0x80]];
const charArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...VALID_CHARS) }, { weight: 2, arbitrary: fc.constantFrom(...INDEX_CHAR_BYTES) });

/** HMAC(K_frag, "EHRV2 fragment" ‖ 00 ‖ u8 len ‖ own ‖ u16 n ‖ u16 i ‖ u64 length ‖ u8 len ‖ next), from §8. */
function specMac(own: readonly number[], n: number, i: number, length: bigint, next: readonly number[]): Uint8Array {
  const fields = Buffer.alloc(12);
  fields.writeUInt16BE(n & 0xffff, 0);
  fields.writeUInt16BE(i & 0xffff, 2);
  fields.writeBigUInt64BE(length & (2n ** 64n - 1n), 4);
  const input = Buffer.concat([Buffer.from('EHRV2 fragment\0'), Buffer.from([own.length]), Buffer.from(own), fields, Buffer.from([next.length]), Buffer.from(next)]);
  return new Uint8Array(createHmac('sha256', fragKey).update(input).digest());
}

const frameArb = fc
  .record({
    own: charArb,
    n: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 8, max: 64 }) }, { weight: 1, arbitrary: edgeU16Arb }),
    i: fc.oneof({ weight: 5, arbitrary: fc.nat({ max: 63 }) }, { weight: 1, arbitrary: edgeU16Arb }),
    payload: fc.uint8Array({ maxLength: 40 }),
    length: fc.oneof({ weight: 6, arbitrary: fc.constant('exact' as const) }, { weight: 2, arbitrary: fc.integer({ min: -6, max: 6 }) }, { weight: 2, arbitrary: edgeU64Arb }),
    next: fc.oneof({ weight: 5, arbitrary: charArb }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 6 }).map((b) => Array.from(b)) }),
    mac: fc.oneof({ weight: 6, arbitrary: fc.constant('right' as const) }, { weight: 1, arbitrary: fc.constant('wrong' as const) }, { weight: 1, arbitrary: fc.constant('flipped' as const) }),
    padding: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 40 }).map((k) => new Uint8Array(k)) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
    slack: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -40, max: -1 }) }),
  })
  .map((f) => {
    const length = f.length === 'exact' ? BigInt(f.payload.length) : typeof f.length === 'number' ? BigInt(Math.max(0, f.payload.length + f.length)) : f.length;
    let mac = specMac(f.own, f.n, f.i, length, f.next);
    if (f.mac === 'wrong') mac = pseudoRandomBytes(32, f.payload.length + 1);
    else if (f.mac === 'flipped') mac[f.payload.length % 32]! ^= 0x10;
    const body = Uint8Array.from([...f.own, f.n >> 8, f.n & 0xff, f.i >> 8, f.i & 0xff, ...u64Bytes(length), ...f.payload, ...f.next, ...mac, ...f.padding]);
    // A negative slack cuts the body (the frame may then not fit in B).
    return f.slack < 0 ? body.subarray(0, Math.max(1, body.length + f.slack)) : body;
  });

async function checkFrame(body: Uint8Array): Promise<void> {
  const ref = referenceFrame(body);
  const utf = (s: string) => Array.from(new TextEncoder().encode(s));
  const authentic = ref !== undefined && ref.zeroPadding && toHex(specMac(utf(ref.own), ref.n, ref.i, BigInt(ref.payloadLength), utf(ref.next))) === toHex(ref.mac);
  const outcome = await settle(async () => {
    const head = readFrameHead(body.subarray(0, Math.min(16, body.length)), body.length);
    if (!head) return undefined;
    const tailStart = head.prefixLength + head.payloadLength;
    return { head, frame: await readFrameTail(keys, head, body.subarray(tailStart)) };
  });
  count('readFrameHead/Tail', outcome.ok ? (outcome.value?.frame ? 'ok' : 'refused') : 'untyped');
  const where = `body ${toHex(body.subarray(0, 80))}${body.length > 80 ? '…' : ''} (${body.length} bytes)`;
  if (!outcome.ok) expect.fail(`${where}: the frame parser threw ${String(outcome.error)}; it must return undefined for a bad frame`);
  const frame = outcome.value?.frame;
  if (!authentic) {
    if (frame !== undefined) expect.fail(`${where}: accepted a frame the spec refuses (FRAGMENT_TAMPERED)`);
    return;
  }
  if (frame === undefined) expect.fail(`${where}: refused an authentic frame`);
  const actual = [frame.indexChar, frame.nextChar, frame.n, frame.position, frame.payloadLength, outcome.value!.head.prefixLength];
  const wanted = [ref.own, ref.next, ref.n, ref.i, ref.payloadLength, ref.prefixLength];
  if (JSON.stringify(actual) !== JSON.stringify(wanted)) expect(actual, where).toEqual(wanted);
}

describe('fuzz: frame parsing (readFrameHead / readFrameTail) against FORMAT.md §8 / §9 step 11', () => {
  it('structured frames: valid or invalid index characters, lengths near 2^53 and 2^64, right and wrong MACs, zero and non-zero padding', async () => {
    await fc.assert(
      fc.asyncProperty(frameArb, (body) => checkFrame(body)),
      runs(PARSE_WEIGHT / 2),
    );
  }, timeoutFor(PARSE_WEIGHT / 2, 0.5));

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 120 }), (body) => checkFrame(body)),
      runs(PARSE_WEIGHT / 5),
    );
  }, timeoutFor(PARSE_WEIGHT / 5, 0.5));
});

// ---------------------------------------------------------------------------------------------------------
// Envelope headers (parsed only after the commitment matched)

const headerArb = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  {
    weight: 6,
    arbitrary: fc
      .record({
        magic: fc.oneof({ weight: 8, arbitrary: fc.constant([0x45, 0x48, 0x52, 0x56]) }, { weight: 1, arbitrary: fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }) }),
        version: fc.oneof({ weight: 6, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: edgeU8Arb }),
        algorithm: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: edgeU8Arb }),
        flags: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: edgeU16Arb }),
        chunkSize: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 64, max: 16_777_216 }) }, { weight: 1, arbitrary: edgeU32Arb }),
        metadataLength: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 256 }).map((k) => 16 + 256 * k) }, { weight: 1, arbitrary: edgeU32Arb }),
        noncePrefix: fc.uint8Array({ minLength: 7, maxLength: 7 }),
        reserved: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: edgeU8Arb }),
        commitment: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        extra: fc.uint8Array({ maxLength: 24 }),
        cut: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat({ max: 55 }) }),
      })
      .map((h) => {
        const bytes = new Uint8Array(56 + h.extra.length);
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
        bytes.set(h.extra, 56);
        return h.cut === null ? bytes : bytes.subarray(0, h.cut);
      }),
  },
);

describe('fuzz: parseEnvelopeHeader against FORMAT.md §5 / §9 step 13', () => {
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
        const expected = toHex(bytes.subarray(0, 56));
        const actual = [header.version, header.algorithm, header.flags, header.chunkSize, header.metadataLength, toHex(header.bytes), toHex(header.noncePrefix), toHex(header.commitment)];
        const wanted = [2, 1, 0, ref.chunkSize, ref.metadataLength, expected, toHex(bytes.subarray(16, 23)), toHex(bytes.subarray(24, 56))];
        if (JSON.stringify(actual) !== JSON.stringify(wanted)) expect(actual).toEqual(wanted);
        // The parsed header is a copy: later changes to the caller's buffer do not reach it.
        input[30] = (input[30]! + 1) & 0xff;
        if (toHex(header.bytes) !== expected) expect.fail("parseEnvelopeHeader returned a view of the caller's buffer, not a copy");
        input[30] = (input[30]! + 255) & 0xff;
      }),
      runs(PARSE_WEIGHT),
    );
  }, timeoutFor(PARSE_WEIGHT, 0.2));
});

// ---------------------------------------------------------------------------------------------------------
// Padmé and the chain rule

describe('fuzz: Padmé and the chain rule against their definitions', () => {
  it('padme equals the BigInt formula of the PURBs paper for every length up to 2^53', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 5000 }), fc.maxSafeNat()), (length) => {
        const p = padme(length);
        count('padme');
        if (BigInt(p) !== referencePadme(BigInt(length))) expect.fail(`Padmé(${length}) = ${p}, the formula gives ${referencePadme(BigInt(length))}`);
      }),
      runs(PARSE_WEIGHT),
    );
  }, timeoutFor(PARSE_WEIGHT, 0.05));

  it('the reference chain rule accepts exactly the ring of the key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...'abcdefghijklmnop'), { minLength: 8, maxLength: 12 }), fc.nat(), fc.nat(), (chars, at, to) => {
        const n = chars.length;
        const ring = chars.map((c, i) => ({ own: c, next: chars[(i + 1) % n]!, n, i }));
        expect(referenceChain(chars, ring)).toBeUndefined();
        const i = at % n;
        const next = chars[to % n]!;
        const bent = ring.map((f, k) => (k === i ? { ...f, next } : f));
        const result = referenceChain(chars, bent);
        if (next === chars[(i + 1) % n]) expect(result).toBeUndefined();
        else expect(result).toEqual({ code: to % n <= i ? 'CHAIN_LOOP' : 'CHAIN_BROKEN', position: i });
      }),
      runs(1),
    );
  });
});
