/**
 * Records the fuzzers start from, and the mutations they apply to fragments and envelopes
 * (not a test file itself).
 */
import fc from 'fast-check';
import {
  HEADER_LENGTH,
  TAG_LENGTH,
  concatBytes,
  deriveRecordKeys,
  hmacSha256,
  mergeFragments,
  protectRecord,
  splitEnvelope,
  type RecordKeys,
  type RecordMetadata,
  type SequenceKey,
} from '../../src/core/index.js';
import { fileMetadata, pseudoRandomBytes } from '../unit/core/helpers.js';
import { INDEX_CHAR_BYTES, edgeU64Arb } from './harness.js';
import { leadLength } from './reference.js';

export interface Fixture {
  readonly name: string;
  readonly recordKey: Uint8Array;
  readonly keys: RecordKeys;
  readonly sequenceKey: SequenceKey;
  readonly body: Uint8Array;
  readonly metadata: RecordMetadata;
  readonly chunkSize: number;
  readonly envelope: Uint8Array;
  readonly fragments: readonly Uint8Array[];
}

const K1 = pseudoRandomBytes(16, 101);

/** [name, sequence key, body length, chunk size, record key seed]; K1 is shared on purpose (see below). */
const SPECS: readonly (readonly [string, string, number, number, Uint8Array])[] = [
  ['ascii', 'adk21937', 1000, 64, K1],
  // Same sequence key, another record key: its fragments are foreign to 'ascii'.
  ['ascii-other-key', 'adk21937', 1000, 64, pseudoRandomBytes(16, 102)],
  // Same record key and sequence key (a reused record key, which the app never does), same size: frames identical to 'ascii'.
  ['ascii-reused-key', 'adk21937', 1000, 64, K1],
  // Same record key and sequence key, other size: authentic frames of other lengths.
  ['ascii-reused-key-other-size', 'adk21937', 600, 64, K1],
  // Same record key, other sequence key.
  ['ascii-reused-key-other-sequence', 'kda73912', 1000, 64, K1],
  ['emoji', '😀😁😂🤣😃😄😅😆', 150, 64, pseudoRandomBytes(16, 103)],
  ['mixed-width', 'é中😀abcdß', 300, 100, pseudoRandomBytes(16, 104)],
  ['long-key-empty-body', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#', 0, 64, pseudoRandomBytes(16, 105)],
];

export async function makeFixtures(): Promise<Fixture[]> {
  return Promise.all(
    SPECS.map(async ([name, text, size, chunkSize, recordKey], i) => {
      const body = pseudoRandomBytes(size, 200 + i);
      const metadata = fileMetadata(size, `${name}.bin`);
      const record = await protectRecord([body], metadata, text, { chunkSize, recordKey });
      const keys = await deriveRecordKeys(recordKey);
      const fragments = record.fragments.map((f) => f.bytes);
      const { envelope } = await mergeFragments(keys, record.sequenceKey, fragments);
      return { name, recordKey, keys, sequenceKey: record.sequenceKey, body, metadata, chunkSize, envelope, fragments };
    }),
  );
}

/** Fixtures that share the record key and the sequence key of `f` (itself included). */
export function family(fixtures: readonly Fixture[], f: Fixture): Fixture[] {
  return fixtures.filter((g) => g.sequenceKey.text === f.sequenceKey.text && g.recordKey.every((b, i) => b === f.recordKey[i]));
}

/** Segment boundaries of a fixture's envelope: [start, end) of the header, metadata and each body chunk. */
export function segments(f: Fixture): [number, number][] {
  const metadataLength = new DataView(f.envelope.buffer, f.envelope.byteOffset).getUint32(12);
  const out: [number, number][] = [
    [0, HEADER_LENGTH],
    [HEADER_LENGTH, HEADER_LENGTH + metadataLength],
  ];
  const chunks = Math.max(1, Math.ceil(f.body.length / f.chunkSize));
  let at = HEADER_LENGTH + metadataLength;
  for (let i = 0; i < chunks; i++) {
    const plain = i < chunks - 1 ? f.chunkSize : f.body.length - f.chunkSize * (chunks - 1);
    out.push([at, at + plain + TAG_LENGTH]);
    at += plain + TAG_LENGTH;
  }
  return out;
}

/** The authentic plaintext chunks of a fixture, in order. */
export function plaintextChunks(f: Fixture): Uint8Array[] {
  const chunks = Math.max(1, Math.ceil(f.body.length / f.chunkSize));
  return Array.from({ length: chunks }, (_, i) => f.body.subarray(i * f.chunkSize, Math.min(f.body.length, (i + 1) * f.chunkSize)));
}

// ---------------------------------------------------------------------------------------------------------
// Byte-level mutations of one fragment list

export type FragmentField = 'version' | 'flags' | 'n' | 'position' | 'payloadLength';

export type FragmentOp =
  | { readonly kind: 'flip'; readonly frag: number; readonly region: 'any' | 'head' | 'tail'; readonly bits: readonly number[] }
  | { readonly kind: 'setByte'; readonly frag: number; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly frag: number; readonly keep: number; readonly nearHead: boolean }
  | { readonly kind: 'cutFront'; readonly frag: number; readonly drop: number }
  | { readonly kind: 'extend'; readonly frag: number; readonly bytes: Uint8Array; readonly front: boolean }
  | { readonly kind: 'splice'; readonly frag: number; readonly at: number; readonly remove: number; readonly insert: Uint8Array }
  | { readonly kind: 'field'; readonly frag: number; readonly field: FragmentField; readonly value: bigint }
  | { readonly kind: 'indexChar'; readonly frag: number; readonly bytes: readonly number[] }
  | { readonly kind: 'nextChar'; readonly frag: number; readonly bytes: readonly number[] }
  | { readonly kind: 'drop'; readonly frag: number }
  | { readonly kind: 'duplicate'; readonly frag: number }
  | { readonly kind: 'permute'; readonly ranks: readonly number[] }
  | { readonly kind: 'swapPayloads'; readonly a: number; readonly b: number }
  | { readonly kind: 'foreign'; readonly frag: number; readonly donor: number; readonly replace: boolean }
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array }
  | { readonly kind: 'clear' }
  | { readonly kind: 'view'; readonly frag: number; readonly offset: number };

const smallBytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max });
const indexCharArb = fc.constantFrom(...INDEX_CHAR_BYTES);

export const fragmentOpArb: fc.Arbitrary<FragmentOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), frag: fc.nat(), region: fc.constantFrom('any' as const, 'head' as const, 'tail' as const), bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setByte' as const), frag: fc.nat(), at: fc.nat(), value: fc.nat({ max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), frag: fc.nat(), keep: fc.nat(), nearHead: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cutFront' as const), frag: fc.nat(), drop: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extend' as const), frag: fc.nat(), bytes: fc.oneof(smallBytes(8), indexCharArb.map((b) => Uint8Array.from(b))), front: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), frag: fc.nat(), at: fc.nat(), remove: fc.nat({ max: 6 }), insert: fc.uint8Array({ maxLength: 6 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      frag: fc.nat(),
      field: fc.constantFrom<FragmentField>('version', 'flags', 'n', 'position', 'payloadLength'),
      value: edgeU64Arb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('indexChar' as const), frag: fc.nat(), bytes: indexCharArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('nextChar' as const), frag: fc.nat(), bytes: indexCharArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), frag: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), frag: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('permute' as const), ranks: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('swapPayloads' as const), a: fc.nat(), b: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('foreign' as const), frag: fc.nat(), donor: fc.nat(), replace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 120 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('view' as const), frag: fc.nat(), offset: fc.integer({ min: 1, max: 9 }) }) },
);

/** Where the fixed header of a (possibly damaged) fragment would start: after its claimed index character. */
function ownLength(bytes: Uint8Array): number {
  return bytes.length === 0 ? 1 : leadLength(bytes[0]!) || 1;
}

function writeField(bytes: Uint8Array, field: FragmentField, value: bigint): Uint8Array {
  const own = ownLength(bytes);
  const [offset, width] = { version: [0, 1], flags: [1, 1], n: [2, 2], position: [4, 2], payloadLength: [6, 8] }[field] as [number, number];
  const out = bytes.slice();
  let v = value & ((1n << BigInt(8 * width)) - 1n);
  for (let i = width - 1; i >= 0; i--) {
    const at = own + offset + i;
    if (at < out.length) out[at] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** Payload bounds of a fragment as its own header claims them, if they lie inside it. */
function claimedPayload(bytes: Uint8Array): [number, number] | undefined {
  const own = ownLength(bytes);
  if (bytes.length < own + 46) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = Number(view.getBigUint64(own + 6));
  const start = own + 46;
  return start + length <= bytes.length ? [start, start + length] : undefined;
}

/** Applies one mutation to a fragment list (returns a new list; the inputs are never modified). */
export function applyFragmentOp(list: readonly Uint8Array[], op: FragmentOp, donors: readonly Fixture[]): Uint8Array[] {
  const out = list.slice();
  if (op.kind === 'clear') return [];
  if (op.kind === 'garbage') return [...out, op.bytes];
  if (op.kind === 'permute') return out.map((f, i) => [f, op.ranks[i % op.ranks.length]! * 64 + i] as const).sort((a, b) => a[1] - b[1]).map(([f]) => f);
  if (out.length === 0) return out;
  if (op.kind === 'swapPayloads') {
    const a = op.a % out.length;
    const b = op.b % out.length;
    const pa = claimedPayload(out[a]!);
    const pb = claimedPayload(out[b]!);
    if (a === b || !pa || !pb) return out;
    const fa = out[a]!;
    const fb = out[b]!;
    out[a] = concatBytes([fa.subarray(0, pa[0]), fb.subarray(pb[0], pb[1]), fa.subarray(pa[1])]);
    out[b] = concatBytes([fb.subarray(0, pb[0]), fa.subarray(pa[0], pa[1]), fb.subarray(pb[1])]);
    return out;
  }
  const i = op.frag % out.length;
  const bytes = out[i]!;
  switch (op.kind) {
    case 'flip': {
      if (bytes.length === 0) return out;
      const copy = bytes.slice();
      for (const n of op.bits) {
        const bits = copy.length * 8;
        const bit = op.region === 'head' ? n % Math.min(bits, 50 * 8) : op.region === 'tail' ? bits - 1 - (n % Math.min(bits, 32)) : n % bits;
        copy[bit >> 3]! ^= 1 << (bit & 7);
      }
      out[i] = copy;
      return out;
    }
    case 'setByte': {
      if (bytes.length === 0) return out;
      const copy = bytes.slice();
      copy[op.at % copy.length] = op.value;
      out[i] = copy;
      return out;
    }
    case 'truncate': {
      if (bytes.length === 0) return out;
      // Half the cuts fall inside the first 60 bytes (index character and header), the rest anywhere.
      const keep = op.nearHead ? op.keep % Math.min(bytes.length, 60) : op.keep % bytes.length;
      out[i] = bytes.subarray(0, keep);
      return out;
    }
    case 'cutFront':
      out[i] = bytes.subarray(Math.min(op.drop, bytes.length));
      return out;
    case 'extend':
      out[i] = op.front ? concatBytes([op.bytes, bytes]) : concatBytes([bytes, op.bytes]);
      return out;
    case 'splice': {
      const at = bytes.length === 0 ? 0 : op.at % bytes.length;
      out[i] = concatBytes([bytes.subarray(0, at), op.insert, bytes.subarray(Math.min(bytes.length, at + op.remove))]);
      return out;
    }
    case 'field':
      out[i] = writeField(bytes, op.field, op.value);
      return out;
    case 'indexChar':
      out[i] = concatBytes([Uint8Array.from(op.bytes), bytes.subarray(Math.min(bytes.length, ownLength(bytes)))]);
      return out;
    case 'nextChar': {
      const parsed = claimedPayload(bytes);
      const end = parsed ? parsed[1] : Math.max(0, bytes.length - 1);
      out[i] = concatBytes([bytes.subarray(0, end), Uint8Array.from(op.bytes)]);
      return out;
    }
    case 'drop':
      out.splice(i, 1);
      return out;
    case 'duplicate':
      out.splice(i, 0, bytes);
      return out;
    case 'foreign': {
      const donor = donors[op.donor % donors.length]!;
      const taken = donor.fragments[i % donor.fragments.length]!;
      if (op.replace) out[i] = taken;
      else out.push(taken);
      return out;
    }
    case 'view': {
      const backing = new Uint8Array(op.offset + bytes.length + 3).fill(0xee);
      backing.set(bytes, op.offset);
      out[i] = backing.subarray(op.offset, op.offset + bytes.length);
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Envelope-level mutations (applied before splitting again with authentic frames)

export type HeaderField = 'magic' | 'version' | 'algorithm' | 'flags' | 'chunkSize' | 'metadataLength' | 'noncePrefix' | 'reserved' | 'commitment';

export type EnvelopeOp =
  | { readonly kind: 'flip'; readonly bits: readonly number[]; readonly headerOnly: boolean }
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'extend'; readonly bytes: Uint8Array }
  | { readonly kind: 'splice'; readonly at: number; readonly remove: number; readonly insert: Uint8Array }
  | { readonly kind: 'header'; readonly field: HeaderField; readonly value: bigint; readonly recommit: boolean }
  | { readonly kind: 'segments'; readonly action: 'swap' | 'drop' | 'duplicate' | 'move-to-end'; readonly i: number; readonly j: number };

export const envelopeOpArb: fc.Arbitrary<EnvelopeOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), bits: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), headerOnly: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.nat({ max: 40 }), insert: fc.uint8Array({ maxLength: 40 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('header' as const),
      field: fc.constantFrom<HeaderField>('magic', 'version', 'algorithm', 'flags', 'chunkSize', 'metadataLength', 'noncePrefix', 'reserved', 'commitment'),
      value: edgeU64Arb,
      recommit: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('segments' as const), action: fc.constantFrom('swap' as const, 'drop' as const, 'duplicate' as const, 'move-to-end' as const), i: fc.nat(), j: fc.nat() }),
  },
);

const HEADER_FIELDS: Record<HeaderField, readonly [number, number]> = {
  magic: [0, 4],
  version: [4, 1],
  algorithm: [5, 1],
  flags: [6, 2],
  chunkSize: [8, 4],
  metadataLength: [12, 4],
  noncePrefix: [16, 7],
  reserved: [23, 1],
  commitment: [24, 16],
};

/** Applies one envelope mutation; `recommit` recomputes the key commitment as a writer holding the key would. */
export async function applyEnvelopeOp(envelope: Uint8Array, op: EnvelopeOp, f: Fixture): Promise<Uint8Array> {
  switch (op.kind) {
    case 'flip': {
      const copy = envelope.slice();
      for (const n of op.bits) {
        const bit = n % (op.headerOnly ? Math.min(copy.length, HEADER_LENGTH) * 8 : copy.length * 8);
        copy[bit >> 3]! ^= 1 << (bit & 7);
      }
      return copy;
    }
    case 'truncate':
      return envelope.length === 0 ? envelope : envelope.subarray(0, op.keep % envelope.length);
    case 'extend':
      return concatBytes([envelope, op.bytes]);
    case 'splice': {
      const at = op.at % (envelope.length + 1);
      return concatBytes([envelope.subarray(0, at), op.insert, envelope.subarray(Math.min(envelope.length, at + op.remove))]);
    }
    case 'header': {
      if (envelope.length < HEADER_LENGTH) return envelope;
      const copy = envelope.slice();
      const [offset, width] = HEADER_FIELDS[op.field];
      let v = op.value;
      for (let i = width - 1; i >= 0; i--) {
        copy[offset + i] = Number(v & 0xffn);
        v >>= 8n;
      }
      if (op.recommit && op.field !== 'commitment') copy.set((await hmacSha256(f.keys.commitment, copy.subarray(0, 24))).subarray(0, 16), 24);
      return copy;
    }
    case 'segments': {
      const parts = segments(f).map(([s, e]) => envelope.subarray(s, e));
      // Only body chunks and the metadata segment move; the header stays in front.
      const movable = parts.length - 1;
      const i = 1 + (op.i % movable);
      const j = 1 + (op.j % movable);
      if (op.action === 'swap') [parts[i], parts[j]] = [parts[j]!, parts[i]!];
      else if (op.action === 'drop') parts.splice(i, 1);
      else if (op.action === 'duplicate') parts.splice(j, 0, parts[i]!);
      else parts.push(...parts.splice(i, 1));
      return concatBytes(parts);
    }
  }
}

/** Splits a (mutated) envelope again with authentic frames, as a writer holding the record key would. */
export async function resplit(f: Fixture, envelope: Uint8Array, sequenceKey: SequenceKey = f.sequenceKey): Promise<Uint8Array[] | undefined> {
  if (envelope.length < sequenceKey.n) return undefined;
  return (await splitEnvelope(f.keys, sequenceKey, envelope)).map((x) => x.bytes);
}

