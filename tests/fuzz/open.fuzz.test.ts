/**
 * Fuzzing the whole read path of format 2: openRecord (heads → chain → envelope, FORMAT.md §9) and
 * openStream (the envelope alone), fed
 *
 * - real objects damaged at the byte level (bit flips anywhere, in the head, the frame front or the tail;
 *   cuts, extensions, splices), reordered, duplicated, dropped, heads and bodies swapped, random bytes and
 *   random bytes of an object's exact length, objects of other records (other record key; same key with
 *   another id; a reused key and id; another sequence key), opened with the right or a wrong sequence key,
 *   record key or record id;
 * - envelopes damaged and sealed again into authentic objects (what a writer holding the keys could
 *   produce): header fields set to absurd values with and without a valid key commitment, segments
 *   swapped, dropped, duplicated, cut, extended;
 * - envelopes a hostile writer encrypted properly, with hostile metadata (byte lengths up to 2^64, huge
 *   images, wrong types, bad padding, lying length prefixes).
 *
 * Every case must end in a typed EhrVaultError with a known code (cloud-side damage only with the codes a
 * cloud can cause), or in success only where success is right: all data objects of one record made with
 * these keys, each once, giving back exactly the original plaintext. openStream may hand out chunks before
 * it fails (it streams), but each must be authentic: equal to the original chunk.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EhrVaultError, HEAD_LENGTH, concatBytes, openRecord, openStream, parseSequenceKey, toHex, type ErrorCode, type RecordKeys, type RecordMetadata } from '../../src/core/index.js';
import { craftRecord } from '../unit/core/craft.js';
import { asAsync, freshKeys, pseudoRandomBytes, splitBySizes, type SpecHeader } from '../unit/core/helpers.js';
import { applyEnvelopeOp, applyObjectOp, envelopeOpArb, fuzzStretch, headerOption, makeFixtures, objectOpArb, plaintextChunks, resealed, type EnvelopeOp, type Fixture } from './fixtures.js';
import {
  AllocationLimitError,
  CLOUD_CODES,
  ENVELOPE_CODES,
  OPEN_RECORD_CODES,
  count,
  equalBytes,
  expectTypedError,
  installAllocationGuard,
  runs,
  settle,
  summary,
  timeoutFor,
} from './harness.js';

let fixtures: Fixture[];
let restoreGuard: () => void;

beforeAll(async () => {
  fixtures = await makeFixtures();
  restoreGuard = installAllocationGuard();
});

afterAll(() => {
  restoreGuard?.();
  console.log(summary('open.fuzz.test.ts'));
});

const printable = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `0x${toHex(v.subarray(0, 24))}${v.length > 24 ? '…' : ''}` : v));

/**
 * Whether `list` holds every data object of `g` exactly once and nothing but objects of `g`. Parity objects
 * are optional, and only their heads and lengths count: a reader ignores their bodies (FORMAT.md §4.4).
 */
function acceptable(list: readonly Uint8Array[], g: Fixture): boolean {
  const identity = (o: Uint8Array, i: number) => (i < g.dataObjects ? toHex(o) : `${toHex(o.subarray(0, HEAD_LENGTH))}/${o.length}`);
  const index = new Map(g.objects.map((o, i) => [identity(o, i), i]));
  const seen = new Set<number>();
  for (const o of list) {
    const i = index.get(toHex(o)) ?? index.get(`${toHex(o.subarray(0, HEAD_LENGTH))}/${o.length}`);
    if (i === undefined || seen.has(i)) return false;
    seen.add(i);
  }
  for (let i = 0; i < g.dataObjects; i++) if (!seen.has(i)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// openRecord over the cloud's objects

type KeyVariant = 'right' | 'permuted-sequence-key' | 'rotated-sequence-key' | 'longer-sequence-key' | 'other-record-key' | 'other-record-id';

const keyVariantArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<KeyVariant>('right') },
  { weight: 1, arbitrary: fc.constantFrom<KeyVariant>('permuted-sequence-key', 'rotated-sequence-key', 'longer-sequence-key', 'other-record-key', 'other-record-id') },
);

function keysFor(f: Fixture, variant: KeyVariant): { sequenceKey: string; recordKey: Uint8Array; recordId: string } {
  const chars = f.sequenceKey.chars;
  const sequenceKey =
    variant === 'permuted-sequence-key' ? [chars[1]!, chars[0]!, ...chars.slice(2)].join('')
    : variant === 'rotated-sequence-key' ? [...chars.slice(1), chars[0]!].join('')
    : variant === 'longer-sequence-key' ? (chars.length < 64 ? `${f.sequenceKey.text}${['¶', '§', '@'].find((c) => !chars.includes(c))!}` : f.sequenceKey.text.slice(1))
    : f.sequenceKey.text;
  const recordKey = variant === 'other-record-key' ? f.recordKey.map((b) => b ^ 0x24) : f.recordKey;
  const recordId = variant === 'other-record-id' ? `${f.recordId[0] === 'A' ? 'B' : 'A'}${f.recordId.slice(1)}` : f.recordId;
  return { sequenceKey, recordKey, recordId };
}

const openRecordCaseArb = fc.record({
  fixture: fc.nat(),
  ops: fc.array(objectOpArb, { maxLength: 3 }),
  keyVariant: keyVariantArb,
});

describe('fuzz: openRecord over objects damaged, mixed up or replaced by a cloud', () => {
  it(
    'only typed errors a cloud can cause; success only for all data objects of one record, with its exact plaintext',
    async () => {
      const origin = new Map(fixtures.flatMap((g) => g.objects.map((o) => [toHex(o), g] as const)));
      await fc.assert(
        fc.asyncProperty(openRecordCaseArb, async ({ fixture, ops, keyVariant }) => {
          const f = fixtures[fixture % fixtures.length]!;
          let list: Uint8Array[] = f.objects.slice();
          for (const op of ops) list = applyObjectOp(list, op, fixtures);
          const { sequenceKey, recordKey, recordId } = keysFor(f, keyVariant);
          let released: unknown;
          const outcome = await settle(async () => (released = await openRecord(list, sequenceKey, recordKey, recordId, { stretch: fuzzStretch })));
          count('openRecord', outcome);
          const where = `${f.name}, key ${keyVariant}, ops ${printable(ops)}`;
          const key = parseSequenceKey(sequenceKey).text;
          const match = fixtures.find((g) => g.sequenceKey.text === key && equalBytes(g.recordKey, recordKey) && g.recordId === recordId && acceptable(list, g));
          // With parity objects (FORMAT.md §4.4) a reader may also open from damaged or fewer objects (it
          // re-creates them, or sets aside objects whose heads do not open): then only the exact plaintext
          // of that record may come out.
          const parityMatch = outcome.ok ? fixtures.find((g) => g.objects.length > g.dataObjects && g.sequenceKey.text === key && equalBytes(g.recordKey, recordKey) && g.recordId === recordId && toHex(g.body) === toHex(outcome.value.body)) : undefined;
          if (match === undefined && parityMatch !== undefined && outcome.ok) {
            expect(outcome.value.metadata, where).toEqual(parityMatch.metadata);
            return;
          }
          if (match === undefined) {
            // Objects of records that share K, R and S (never made by the app) can make authentic frames of
            // two envelopes meet: only then can the envelope lengths disagree.
            const families = new Set(list.map((o) => origin.get(toHex(o))).filter((g) => g !== undefined && g.sequenceKey.text === key && equalBytes(g.recordKey, recordKey) && g.recordId === recordId));
            const allowed: readonly ErrorCode[] = families.size > 1 ? [...CLOUD_CODES, 'ENVELOPE_TRUNCATED', 'ENVELOPE_TRAILING_DATA'] : CLOUD_CODES;
            expectTypedError(outcome, allowed, where);
            expect(released, where).toBeUndefined();
            return;
          }
          if (!outcome.ok) expect.fail(`${where}: the authentic objects of ${match.name} were refused: ${String(outcome.error)}`);
          expect(toHex(outcome.value.body), where).toBe(toHex(match.body));
          expect(outcome.value.metadata, where).toEqual(match.metadata);
        }),
        runs(3),
      );
    },
    timeoutFor(3, 15),
  );
});

// ---------------------------------------------------------------------------------------------------------
// openRecord over envelopes changed and sealed again by a writer holding the keys

describe('fuzz: openRecord over damaged envelopes sealed into authentic objects', () => {
  it(
    'typed errors only (envelope errors blamed on fragments where the spec says so); success only for an unchanged envelope',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.array(envelopeOpArb, { minLength: 1, maxLength: 2 }), async (which, ops) => {
          const f = fixtures[which % fixtures.length]!;
          const objects = await resealed(f, ops);
          if (objects === undefined) return;
          const outcome = await settle(() => openRecord(objects, f.sequenceKey, f.recordKey, f.recordId, { stretch: fuzzStretch }));
          count('openRecord (resealed)', outcome);
          const where = `${f.name}, envelope ops ${printable(ops)}`;
          if (outcome.ok) {
            // Only a change that changed nothing (e.g. a header field set to its own value) may open.
            expect(toHex(outcome.value.body), where).toBe(toHex(f.body));
            expect(outcome.value.metadata, where).toEqual(f.metadata);
            return;
          }
          const error = expectTypedError(outcome, OPEN_RECORD_CODES, where);
          // Frames are authentic and chained right: steps 2–12 pass; only the envelope can fail.
          const envelopeSteps: readonly ErrorCode[] = ['FRAGMENT_TAMPERED', 'ENVELOPE_MALFORMED', 'ENVELOPE_UNSUPPORTED', 'ENVELOPE_TRUNCATED', 'ENVELOPE_TRAILING_DATA', 'METADATA_INVALID'];
          if (!envelopeSteps.includes(error.code)) expect.fail(`${where}: ${error.code} from authentic, rightly chained objects`);
          if (error.code === 'FRAGMENT_TAMPERED' && !(Array.isArray(error.details.indexChars) && error.details.indexChars.length > 0)) expect.fail(`${where}: FRAGMENT_TAMPERED names no fragment`);
        }),
        runs(1.5),
      );
    },
    timeoutFor(1.5, 20),
  );
});

// ---------------------------------------------------------------------------------------------------------
// openStream

const openStreamCaseArb = fc.record({
  fixture: fc.nat(),
  ops: fc.array(envelopeOpArb, { maxLength: 3 }),
  pieces: fc.array(fc.nat({ max: 300 }), { maxLength: 12 }),
  asyncSource: fc.boolean(),
  concurrency: fc.constantFrom(undefined, 1, 2, 4, 16),
  wrongKey: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

interface StreamRun {
  metadata?: RecordMetadata;
  chunks: Uint8Array[];
}

async function drain(keys: RecordKeys, pieces: Uint8Array[], asyncSource: boolean, concurrency: number | undefined, run: StreamRun): Promise<void> {
  const opened = await openStream(keys, asyncSource ? asAsync(pieces) : pieces, { concurrency });
  run.metadata = opened.metadata;
  for await (const chunk of opened.chunks) run.chunks.push(chunk.slice());
}

/** Every chunk openStream released must be the authentic chunk at that index. */
function checkReleased(run: StreamRun, authentic: readonly Uint8Array[], where: string): void {
  run.chunks.forEach((chunk, i) => {
    const original = authentic[i];
    if (original === undefined || !equalBytes(chunk, original)) expect.fail(`${where}: released chunk ${i} (${chunk.length} bytes) is not the authentic plaintext`);
  });
}

/** The byte-level form of a header change, for openStream (recommit: only with the fixture's own keys). */
async function applyStreamOp(envelope: Uint8Array, op: EnvelopeOp, f: Fixture): Promise<Uint8Array> {
  if (op.kind !== 'header') return applyEnvelopeOp(envelope, op, f);
  if (envelope.length < 56) return envelope;
  const h: SpecHeader = headerOption(op);
  const copy = envelope.slice();
  const view = new DataView(copy.buffer);
  if (h.magic) copy.set(h.magic, 0);
  if (h.version !== undefined) copy[4] = h.version;
  if (h.algorithm !== undefined) copy[5] = h.algorithm;
  if (h.flags !== undefined) view.setUint16(6, h.flags);
  if (h.chunkSize !== undefined) view.setUint32(8, h.chunkSize);
  if (h.metadataLength !== undefined) view.setUint32(12, h.metadataLength);
  if (h.reserved !== undefined) copy[23] = h.reserved;
  if (op.recommit) copy.set(new Uint8Array(await crypto.subtle.sign('HMAC', f.keys.commitment, copy.slice(0, 24))), 24);
  return copy;
}

describe('fuzz: openStream', () => {
  let otherKeys: RecordKeys;
  beforeAll(async () => {
    otherKeys = (await freshKeys()).keys;
  });

  it(
    'damaged envelopes in pieces of any size: only authentic chunks come out, and every failure is typed',
    async () => {
      await fc.assert(
        fc.asyncProperty(openStreamCaseArb, async ({ fixture, ops, pieces, asyncSource, concurrency, wrongKey }) => {
          const f = fixtures[fixture % fixtures.length]!;
          let envelope = f.envelope;
          for (const op of ops) envelope = await applyStreamOp(envelope, op, f);
          const run: StreamRun = { chunks: [] };
          const outcome = await settle(() => drain(wrongKey ? otherKeys : f.keys, splitBySizes(envelope, pieces), asyncSource, concurrency, run));
          count('openStream', outcome);
          const where = `${f.name}${wrongKey ? ' (wrong key)' : ''}, ops ${printable(ops)}, pieces ${printable(pieces)}, concurrency ${String(concurrency)}`;
          checkReleased(run, plaintextChunks(f), where);
          // The metadata is released only once it authenticated, so it can only be the original.
          if (run.metadata !== undefined) expect(run.metadata, where).toEqual(f.metadata);
          if (!wrongKey && equalBytes(envelope, f.envelope)) {
            if (!outcome.ok) expect.fail(`${where}: the authentic envelope was refused: ${String(outcome.error)}`);
            expect(toHex(concatBytes(run.chunks)), where).toBe(toHex(f.body));
            return;
          }
          const error = expectTypedError(outcome, ENVELOPE_CODES, where);
          // The commitment is checked before any field: a wrong key never reaches the header's fields.
          if (wrongKey && envelope.length >= 56 && error.code !== 'ENVELOPE_TAMPERED') expect.fail(`${where}: a wrong key gave ${error.code}`);
        }),
        runs(4),
      );
    },
    timeoutFor(4, 5),
  );
});

// ---------------------------------------------------------------------------------------------------------
// A hostile writer: properly encrypted envelopes with hostile metadata

const SEQUENCE_KEY = 'adk21937';
const RECORD_KEY = pseudoRandomBytes(16, 4242);
const RECORD_ID = 'YGFiY2RlZmdoaWprbG1ubw';

const absent = fc.constant(undefined);
const rawJson = (values: readonly string[]) => fc.constantFrom(...values);

const BYTE_LENGTH_EDGES = [
  '0',
  '2147483648', // 2^31: allocatable, and a record of a few hundred bytes should not make the reader try
  '4294967296', // 2^32
  '4294967297',
  '1099511627776', // 2^40
  '9007199254740991', // 2^53 − 1
  '9007199254740992',
  '18446744073709551615', // 2^64 − 1
  '18446744073709551616',
  '-1',
  '1.5',
  '1e400',
  '"5"',
  'null',
];

/** The byte length: mostly the body's own (± 1), often an edge value. */
const byteLengthArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('exact') },
  { weight: 2, arbitrary: fc.constantFrom('exact-1', 'exact+1') },
  { weight: 3, arbitrary: rawJson(BYTE_LENGTH_EDGES) },
  { weight: 1, arbitrary: absent },
);

/** Metadata members as raw JSON text, so values JSON.stringify cannot write (2^64, 1e400) can be sent. */
const hostileMetadataArb = fc.record({
  kind: fc.oneof({ weight: 6, arbitrary: rawJson(['"file"']) }, { weight: 3, arbitrary: rawJson(['"image"']) }, { weight: 1, arbitrary: fc.oneof(rawJson(['"folder"', '1', 'null', '["file"]']), absent) }),
  name: fc.oneof({ weight: 6, arbitrary: rawJson(['"scan.dcm"', '"😀 Röntgen"']) }, { weight: 1, arbitrary: fc.oneof(rawJson([JSON.stringify('x'.repeat(1024)), JSON.stringify('x'.repeat(1025)), '5', '{}']), absent) }),
  mime: fc.oneof({ weight: 6, arbitrary: rawJson(['""', '"application/dicom"']) }, { weight: 1, arbitrary: fc.oneof(rawJson(['"text plain"', JSON.stringify(`a/${'b'.repeat(253)}`), JSON.stringify(`a/${'b'.repeat(254)}`), '[]']), absent) }),
  byteLength: byteLengthArb,
  image: fc.oneof(
    { weight: 4, arbitrary: absent },
    {
      weight: 2,
      arbitrary: fc
        .record({
          width: fc.constantFrom(0, 1, 2, 1_048_576, 1_048_577, -1),
          height: fc.constantFrom(0, 1, 3, 1_048_576),
          pixelFormat: fc.constantFrom('"GRAY8"', '"RGBA16"', '"RGB8"', '"__proto__"', '7'),
          frames: fc.constantFrom<number | undefined>(undefined, 1, 65_536, 65_537),
        })
        .map((i) => `{"width":${i.width},"height":${i.height},"pixelFormat":${i.pixelFormat}${i.frames === undefined ? '' : `,"frames":${i.frames}`}}`),
    },
  ),
  bodyEncoding: fc.oneof({ weight: 4, arbitrary: absent }, { weight: 1, arbitrary: rawJson(['"identity"', '"deflate-raw"', '"filtered-deflate-raw"', '"webp-lossless"', '"gzip"', '0']) }),
  contentLength: fc.oneof({ weight: 4, arbitrary: absent }, { weight: 1, arbitrary: rawJson(['0', '5', '-1', '1.5', '9007199254740992', '"5"']) }),
  createdAt: fc.oneof({ weight: 4, arbitrary: absent }, { weight: 1, arbitrary: rawJson(['0', '-1', '1.5', '9007199254740992', '1764000000000']) }),
  extra: fc.oneof({ weight: 4, arbitrary: absent }, { weight: 1, arbitrary: rawJson(['"__proto__":{"polluted":1}', '"future":[1,2,3]', '"constructor":{"prototype":{"x":1}}']) }),
});

/** Well-formed file or GRAY8 image metadata (width = body length) whose byte length alone varies. */
const plausibleMetadataArb = fc
  .record({ image: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), byteLength: byteLengthArb, extra: fc.oneof({ weight: 3, arbitrary: absent }, { weight: 1, arbitrary: rawJson(['"future":{"a":[1]}']) }) })
  .map(({ image, byteLength, extra }) => ({
    kind: image ? '"image"' : '"file"',
    name: '"scan.dcm"',
    mime: '""',
    byteLength,
    image: image ? 'fit' : undefined,
    bodyEncoding: undefined as string | undefined,
    contentLength: undefined as string | undefined,
    createdAt: undefined as string | undefined,
    extra,
  }));

type HostileMembers = typeof hostileMetadataArb extends fc.Arbitrary<infer T> ? T : never;
type Block = { kind: 'json'; members: HostileMembers } | { kind: 'text'; text: string } | { kind: 'bytes'; bytes: Uint8Array };

const blockArb: fc.Arbitrary<{ block: Block; lengthLie: number; padding: number | undefined; chunkSize: number; body: Uint8Array }> = fc.record({
  block: fc.oneof(
    { weight: 5, arbitrary: plausibleMetadataArb.map((members): Block => ({ kind: 'json', members })) },
    { weight: 4, arbitrary: hostileMetadataArb.map((members): Block => ({ kind: 'json', members })) },
    { weight: 1, arbitrary: fc.constantFrom('[]', 'null', '"file"', '{', '', '{"kind":"file"}', `${'['.repeat(5000)}${']'.repeat(5000)}`).map((text): Block => ({ kind: 'text', text })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes): Block => ({ kind: 'bytes', bytes })) },
  ),
  lengthLie: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 255, 256, 65_536, 2 ** 32 - 1) }),
  padding: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 255 }) }),
  chunkSize: fc.constantFrom(64, 100, 16 * 1024 * 1024),
  body: fc.uint8Array({ maxLength: 300 }),
});

function encodeBlock(block: Block, body: Uint8Array, lengthLie: number, padding: number | undefined): Uint8Array {
  let json: Uint8Array;
  if (block.kind === 'bytes') json = block.bytes;
  else if (block.kind === 'text') json = new TextEncoder().encode(block.text);
  else {
    const m = block.members;
    const byteLength = m.byteLength === 'exact' ? String(body.length) : m.byteLength === 'exact-1' ? String(body.length - 1) : m.byteLength === 'exact+1' ? String(body.length + 1) : m.byteLength;
    const image = m.image === 'fit' ? `{"width":${Math.max(1, body.length)},"height":1,"pixelFormat":"GRAY8"}` : m.image;
    const members = Object.entries({ kind: m.kind, name: m.name, mime: m.mime, byteLength, image, bodyEncoding: m.bodyEncoding, contentLength: m.contentLength, createdAt: m.createdAt })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `"${k}":${v}`);
    if (m.extra !== undefined) members.push(m.extra);
    json = new TextEncoder().encode(`{${members.join(',')}}`);
  }
  const size = Math.min(65_536, Math.max(256, Math.ceil((4 + json.length) / 256) * 256));
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, (json.length + lengthLie) >>> 0);
  out.set(json.subarray(0, size - 4), 4);
  if (padding !== undefined && 4 + json.length < size) out[size - 1] = padding;
  return out;
}

describe('fuzz: a hostile writer who holds the keys', () => {
  it(
    'authentic objects around hostile metadata: typed errors only, no allocation sized by an unchecked length, success only for a consistent record',
    async () => {
      await fc.assert(
        fc.asyncProperty(blockArb, async ({ block, lengthLie, padding, chunkSize, body }) => {
          const metadataBlock = encodeBlock(block, body, lengthLie, padding);
          const crafted = await craftRecord({ sequenceKey: SEQUENCE_KEY, recordKey: RECORD_KEY, recordId: RECORD_ID, stretch: fuzzStretch, metadataBlock, body, chunkSize });
          const where = `metadata ${new TextDecoder().decode(metadataBlock.subarray(4, 4 + Math.min(300, metadataBlock.length - 4))).replace(/\0+$/u, '')}, chunk size ${chunkSize}, body ${body.length} bytes`;

          const record = await settle(() => openRecord(crafted.objects, SEQUENCE_KEY, RECORD_KEY, RECORD_ID, { stretch: fuzzStretch }));
          count('openRecord (hostile)', record);
          if (record.ok) {
            expect(record.value.metadata.byteLength, where).toBe(body.length);
            expect(toHex(record.value.body), where).toBe(toHex(body));
          } else {
            // Heads, frames and every AES-GCM tag are authentic: only the metadata and what it implies can fail.
            expectTypedError(record, ['METADATA_INVALID', 'ENVELOPE_TRUNCATED', 'ENVELOPE_TRAILING_DATA'], where);
          }

          const chunks = Array.from({ length: Math.max(1, Math.ceil(body.length / chunkSize)) }, (_, i) => body.subarray(i * chunkSize, Math.min(body.length, (i + 1) * chunkSize)));
          const run: StreamRun = { chunks: [] };
          const stream = await settle(() => drain(crafted.keys, [crafted.envelope], false, undefined, run));
          count('openStream (hostile)', stream);
          checkReleased(run, chunks, where);
          if (stream.ok) {
            expect(record.ok, `${where}: openStream accepted what openRecord refused`).toBe(true);
            expect(toHex(concatBytes(run.chunks)), where).toBe(toHex(body));
          } else {
            expectTypedError(stream, ENVELOPE_CODES, where);
          }
        }),
        runs(1.5),
      );
    },
    timeoutFor(1.5, 15),
  );
});

// ---------------------------------------------------------------------------------------------------------
// Regressions found by the fuzzers

describe('regressions found by fuzzing', () => {
  // Format 1 (src/core/record.ts, openRecord) allocated `new Uint8Array(metadata.byteLength)` before checking
  // that the fragments held that many bytes: a ~1 KB record whose authentic metadata claimed a large body made
  // the reader allocate up to 4 GiB (or throw an untyped RangeError above 2^32). Format 2 checks the envelope
  // length the metadata implies (FORMAT.md §7: T = 56 + Mseg + byteLength + 16·m) against the authentic
  // payload lengths first (§9 step 14): ENVELOPE_TRUNCATED.
  it('a record whose authentic metadata claims more bytes than its objects hold is ENVELOPE_TRUNCATED, without a huge allocation', async () => {
    const body = pseudoRandomBytes(100, 7);
    for (const byteLength of [2 ** 31, 2 ** 40, 2 ** 53 - 1]) {
      const metadataBlock = encodeBlock({ kind: 'text', text: JSON.stringify({ kind: 'file', name: 'x', mime: '', byteLength }) }, body, 0, undefined);
      const crafted = await craftRecord({ sequenceKey: SEQUENCE_KEY, recordKey: RECORD_KEY, recordId: RECORD_ID, stretch: fuzzStretch, metadataBlock, body, chunkSize: 16 * 1024 * 1024 });
      expect(crafted.envelope.length).toBeLessThan(1024);
      const outcome = await settle(() => openRecord(crafted.objects, SEQUENCE_KEY, RECORD_KEY, RECORD_ID, { stretch: fuzzStretch }));
      if (!outcome.ok && outcome.error instanceof AllocationLimitError) expect.fail(`byteLength ${byteLength}: ${outcome.error.message}`);
      if (!outcome.ok && !(outcome.error instanceof EhrVaultError)) expect.fail(`byteLength ${byteLength}: untyped ${String(outcome.error)}`);
      expectTypedError(outcome, ['ENVELOPE_TRUNCATED'], `byteLength ${byteLength}`);
    }
  });
});
