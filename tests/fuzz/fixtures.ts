/**
 * Records the fuzzers start from, and the mutations they apply to sealed objects and to envelopes
 * (not a test file itself). Format 2: the cloud holds objects = 92-byte head ‖ sealed body (FORMAT.md §4).
 */
import fc from 'fast-check';
import { HEADER_LENGTH, HEAD_LENGTH, TAG_LENGTH, concatBytes, type RecordKeys, type RecordMetadata, type SequenceKey, type Stretch } from '../../src/core/index.js';
import { craftRecord, type CraftOptions } from '../unit/core/craft.js';
import { TEST_KDF, fileMetadata, memoStretch, pseudoRandomBytes, seededRandom, type SpecHeader } from '../unit/core/helpers.js';
import { edgeU64Arb } from './harness.js';

export interface Fixture {
  readonly name: string;
  readonly recordKey: Uint8Array;
  readonly recordId: string;
  readonly keys: RecordKeys;
  readonly sequenceKey: SequenceKey;
  readonly body: Uint8Array;
  readonly metadata: RecordMetadata;
  readonly chunkSize: number;
  readonly envelope: Uint8Array;
  /** Data objects in slot order, then parity objects. */
  readonly objects: readonly Uint8Array[];
  /** Number of data objects (n). */
  readonly dataObjects: number;
  readonly bodyLength: number;
  readonly placements: readonly { readonly payloadStart: number; readonly payloadEnd: number; readonly objectOffset: number }[];
  /** What craftRecord was given, to craft variants of this record. */
  readonly craft: CraftOptions;
}

/** One Argon2id memo for every fuzzer: a record's stretch is computed once per (key, salt, parameters). */
export const fuzzStretch: Stretch = memoStretch();

const K1 = pseudoRandomBytes(16, 101);
const ID1 = 'AAECAwQFBgcICQoLDA0ODw';

/** [name, sequence key, body length, chunk size, record key, record id, parity objects]. */
const SPECS: readonly (readonly [string, string, number, number, Uint8Array, string, number])[] = [
  ['ascii', 'adk21937', 1000, 64, K1, ID1, 0],
  // Same sequence key, another record key: its objects are foreign to 'ascii'.
  ['ascii-other-key', 'adk21937', 1000, 64, pseudoRandomBytes(16, 102), 'EBESExQVFhcYGRobHB0eHw', 0],
  // Same record key, another record id: foreign too (the head's AAD binds the id).
  ['ascii-other-id', 'adk21937', 1000, 64, K1, 'ICEiIyQlJicoKSorLC0uLw', 0],
  // Same K, R and S (a reused record key and id, which the app never does), same size: equal heads, other envelope.
  ['ascii-reused', 'adk21937', 1000, 64, K1, ID1, 0],
  // Same K, R and S, other size: heads of another protection (other B).
  ['ascii-reused-other-size', 'adk21937', 600, 64, K1, ID1, 0],
  // Same K and R, other sequence key: heads open, their check differs.
  ['ascii-reused-other-sequence', 'kda73912', 1000, 64, K1, ID1, 0],
  ['emoji', '😀😁😂🤣😃😄😅😆', 150, 64, pseudoRandomBytes(16, 103), 'MDEyMzQ1Njc4OTo7PD0-Pw', 0],
  ['mixed-width-parity', 'é中😀abcdß', 300, 100, pseudoRandomBytes(16, 104), 'QEFCQ0RFRkdISUpLTE1OTw', 2],
  ['long-key-empty-body', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#', 0, 64, pseudoRandomBytes(16, 105), 'UFFSU1RVVldYWVpbXF1eXw', 0],
];

export async function makeFixtures(): Promise<Fixture[]> {
  const out: Fixture[] = [];
  for (const [i, [name, text, size, chunkSize, recordKey, recordId, parity]] of SPECS.entries()) {
    const body = pseudoRandomBytes(size, 200 + i);
    const metadata = fileMetadata(size, `${name}.bin`);
    const craft: CraftOptions = { sequenceKey: text, recordKey, recordId, body, metadata, chunkSize, parity, kdf: TEST_KDF, stretch: fuzzStretch };
    const r = await craftRecord({ ...craft, randomBytes: seededRandom(300 + i) });
    out.push({
      name,
      recordKey,
      recordId,
      keys: r.keys,
      sequenceKey: r.sequenceKey,
      body,
      metadata,
      chunkSize,
      envelope: r.envelope,
      objects: r.objects,
      dataObjects: r.sequenceKey.n,
      bodyLength: r.bodyLength,
      placements: r.placements,
      craft,
    });
  }
  return out;
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
// Byte-level mutations of one object list (what a cloud, a network or a mix-up can do: no keys)

export type ObjectOp =
  | { readonly kind: 'flip'; readonly obj: number; readonly region: 'any' | 'head' | 'front' | 'tail'; readonly bits: readonly number[] }
  | { readonly kind: 'setByte'; readonly obj: number; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly obj: number; readonly keep: number; readonly nearHead: boolean }
  | { readonly kind: 'cutFront'; readonly obj: number; readonly drop: number }
  | { readonly kind: 'extend'; readonly obj: number; readonly bytes: Uint8Array; readonly front: boolean }
  | { readonly kind: 'splice'; readonly obj: number; readonly at: number; readonly remove: number; readonly insert: Uint8Array }
  | { readonly kind: 'drop'; readonly obj: number }
  | { readonly kind: 'duplicate'; readonly obj: number }
  | { readonly kind: 'permute'; readonly ranks: readonly number[] }
  | { readonly kind: 'swapHeads'; readonly a: number; readonly b: number }
  | { readonly kind: 'swapBodies'; readonly a: number; readonly b: number }
  | { readonly kind: 'foreign'; readonly obj: number; readonly donor: number; readonly replace: boolean }
  | { readonly kind: 'graft'; readonly obj: number; readonly donor: number }
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array; readonly sameLength: boolean }
  | { readonly kind: 'clear' }
  | { readonly kind: 'view'; readonly obj: number; readonly offset: number };

const smallBytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max });

export const objectOpArb: fc.Arbitrary<ObjectOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), obj: fc.nat(), region: fc.constantFrom('any' as const, 'head' as const, 'front' as const, 'tail' as const), bits: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('setByte' as const), obj: fc.nat(), at: fc.nat(), value: fc.nat({ max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), obj: fc.nat(), keep: fc.nat(), nearHead: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cutFront' as const), obj: fc.nat(), drop: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extend' as const), obj: fc.nat(), bytes: smallBytes(8), front: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), obj: fc.nat(), at: fc.nat(), remove: fc.nat({ max: 6 }), insert: fc.uint8Array({ maxLength: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop' as const), obj: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), obj: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('permute' as const), ranks: fc.array(fc.nat(), { minLength: 66, maxLength: 66 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swapHeads' as const), a: fc.nat(), b: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swapBodies' as const), a: fc.nat(), b: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('foreign' as const), obj: fc.nat(), donor: fc.nat(), replace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('graft' as const), obj: fc.nat(), donor: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 200 }), sameLength: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('view' as const), obj: fc.nat(), offset: fc.integer({ min: 1, max: 9 }) }) },
);

/** Applies one mutation to an object list (returns a new list; the inputs are never modified). */
export function applyObjectOp(list: readonly Uint8Array[], op: ObjectOp, donors: readonly Fixture[]): Uint8Array[] {
  const out = list.slice();
  if (op.kind === 'clear') return [];
  if (op.kind === 'garbage') {
    // Random bytes, or random bytes exactly as long as a real object (so only the head can tell).
    const length = op.sameLength && out.length > 0 ? out[0]!.length : op.bytes.length;
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = (op.bytes[i % Math.max(1, op.bytes.length)] ?? 0) ^ ((i * 131) & 0xff);
    return [...out, bytes];
  }
  if (op.kind === 'permute') return out.map((f, i) => [f, op.ranks[i % op.ranks.length]! * 128 + i] as const).sort((a, b) => a[1] - b[1]).map(([f]) => f);
  if (out.length === 0) return out;
  if (op.kind === 'swapHeads' || op.kind === 'swapBodies') {
    const a = op.a % out.length;
    const b = op.b % out.length;
    const oa = out[a]!;
    const ob = out[b]!;
    if (a === b || oa.length < HEAD_LENGTH || ob.length < HEAD_LENGTH) return out;
    if (op.kind === 'swapHeads') {
      out[a] = concatBytes([ob.subarray(0, HEAD_LENGTH), oa.subarray(HEAD_LENGTH)]);
      out[b] = concatBytes([oa.subarray(0, HEAD_LENGTH), ob.subarray(HEAD_LENGTH)]);
    } else {
      out[a] = concatBytes([oa.subarray(0, HEAD_LENGTH), ob.subarray(HEAD_LENGTH)]);
      out[b] = concatBytes([ob.subarray(0, HEAD_LENGTH), oa.subarray(HEAD_LENGTH)]);
    }
    return out;
  }
  const i = op.obj % out.length;
  const bytes = out[i]!;
  switch (op.kind) {
    case 'flip': {
      if (bytes.length === 0) return out;
      const copy = bytes.slice();
      for (const n of op.bits) {
        const bits = copy.length * 8;
        // head: the 92 head bytes; front: the frame prefix after it; tail: the last 64 bytes (MAC, padding).
        const bit =
          op.region === 'head' ? n % Math.min(bits, HEAD_LENGTH * 8)
          : op.region === 'front' ? Math.min(bits - 1, HEAD_LENGTH * 8 + (n % (16 * 8)))
          : op.region === 'tail' ? bits - 1 - (n % Math.min(bits, 64 * 8))
          : n % bits;
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
      // Half the cuts fall inside the head and the frame prefix, the rest anywhere.
      const keep = op.nearHead ? op.keep % Math.min(bytes.length, HEAD_LENGTH + 20) : op.keep % bytes.length;
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
    case 'drop':
      out.splice(i, 1);
      return out;
    case 'duplicate':
      out.splice(i, 0, bytes);
      return out;
    case 'foreign': {
      const donor = donors[op.donor % donors.length]!;
      const taken = donor.objects[i % donor.objects.length]!;
      if (op.replace) out[i] = taken;
      else out.push(taken);
      return out;
    }
    case 'graft': {
      // This object's head on another record's body of the same slot (cut or padded to this length).
      const donor = donors[op.donor % donors.length]!.objects[i % donors[op.donor % donors.length]!.objects.length]!;
      const grafted = new Uint8Array(bytes.length);
      grafted.set(donor.subarray(0, bytes.length));
      grafted.set(bytes.subarray(0, Math.min(HEAD_LENGTH, bytes.length)));
      out[i] = grafted;
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
// Envelope-level changes, sealed again into authentic objects (what a writer holding the keys can do)

export type HeaderField = 'magic' | 'version' | 'algorithm' | 'flags' | 'chunkSize' | 'metadataLength' | 'reserved';

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
      field: fc.constantFrom<HeaderField>('magic', 'version', 'algorithm', 'flags', 'chunkSize', 'metadataLength', 'reserved'),
      value: edgeU64Arb,
      recommit: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('segments' as const), action: fc.constantFrom('swap' as const, 'drop' as const, 'duplicate' as const, 'move-to-end' as const), i: fc.nat(), j: fc.nat() }) },
);

const HEADER_FIELDS: Record<HeaderField, readonly [number, number]> = {
  magic: [0, 4],
  version: [4, 1],
  algorithm: [5, 1],
  flags: [6, 2],
  chunkSize: [8, 4],
  metadataLength: [12, 4],
  reserved: [23, 1],
};

/** A header change as craftRecord's `header` option (authentic: encrypted under the changed header). */
export function headerOption(op: Extract<EnvelopeOp, { kind: 'header' }>): SpecHeader {
  const width = HEADER_FIELDS[op.field][1];
  const v = op.value & ((1n << BigInt(8 * width)) - 1n);
  const n = Number(v);
  switch (op.field) {
    case 'magic':
      return { magic: Uint8Array.from([24, 16, 8, 0].map((s) => Number((v >> BigInt(s)) & 0xffn))), recommit: op.recommit };
    case 'version':
      return { version: n, recommit: op.recommit };
    case 'algorithm':
      return { algorithm: n, recommit: op.recommit };
    case 'flags':
      return { flags: n, recommit: op.recommit };
    case 'chunkSize':
      return { chunkSize: n, recommit: op.recommit };
    case 'metadataLength':
      return { metadataLength: n, recommit: op.recommit };
    case 'reserved':
      return { reserved: n, recommit: op.recommit };
  }
}

/** Applies the byte-level envelope changes (header changes go through `headerOption`). */
export function applyEnvelopeOp(envelope: Uint8Array, op: Exclude<EnvelopeOp, { kind: 'header' }>, f: Fixture): Uint8Array {
  switch (op.kind) {
    case 'flip': {
      const copy = envelope.slice();
      if (copy.length === 0) return copy;
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

/**
 * Seals a fixture again after envelope changes, with authentic objects (canonical padding for the new
 * length), as a writer holding the keys could. Undefined when the envelope is too short to split.
 */
export async function resealed(f: Fixture, ops: readonly EnvelopeOp[]): Promise<Uint8Array[] | undefined> {
  let header: SpecHeader | undefined;
  for (const op of ops) if (op.kind === 'header') header = { ...header, ...headerOption(op) };
  const byteOps = ops.filter((op): op is Exclude<EnvelopeOp, { kind: 'header' }> => op.kind !== 'header');
  let tooShort = false;
  const r = await craftRecord({
    ...f.craft,
    randomBytes: seededRandom(ops.length + 1),
    ...(header ? { header } : {}),
    envelope: (e) => {
      let out = e;
      for (const op of byteOps) out = applyEnvelopeOp(out, op, f);
      tooShort = out.length < f.dataObjects;
      return tooShort ? e : out;
    },
  });
  return tooShort ? undefined : r.objects;
}
