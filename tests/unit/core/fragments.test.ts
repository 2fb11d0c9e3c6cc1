/**
 * Records of format 2 in memory (FORMAT.md §3–§9): protectRecord → sealed objects → openRecord, the two
 * secrets, and every error of §9 reached through openRecord, either by manipulating the cloud's objects
 * (what a cloud, a network or a mix-up can do) or by crafting authentic objects (craft.ts: what only a
 * writer holding the keys can do), with the exact blamed objects and fragments.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseSequenceKey,
  stretchForBatch,
  DEFAULT_KDF,
  HEAD_LENGTH,
  HEADER_LENGTH,
  TAG_LENGTH,
  concatBytes,
  decodeHeadFields,
  decodeShareText,
  deriveLocatorKeys,
  encodeShareText,
  objectBodyLength,
  openHeadBytes,
  openRecord,
  protectRecord,
  recordIdBytes,
  toHex,
  type ErrorCode,
  type ProtectedRecord,
  type RecordMetadata,
} from '../../../src/core/index.js';
import { craftRecord, errorScenarios, type CraftOptions, type CraftedRecord } from './craft.js';
import { ALL_ERROR_CODES, TEST_KDF, caught, fileMetadata, pseudoRandomBytes, seededRandom } from './helpers.js';

const KEY = 'adk21937';
const CHARS = Array.from(KEY);
const C = 64;
const BODY = pseudoRandomBytes(1000, 42);
const METADATA = fileMetadata(BODY.length, 'note.txt', 'text/plain');
/** 56 + 272 + 1000 + 16 × 16 = 1584 = 8 × 198: every payload is 198 bytes. */
const T = 1584;

let record: ProtectedRecord;
let objs: Uint8Array[];
/** Object-internal layout of slot j: [start, end) of frame prefix, payload, next char, MAC and padding (ASCII key: 13-byte prefix). */
const PREFIX = 13;
const PAYLOAD = T / 8;

beforeAll(async () => {
  record = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: TEST_KDF, parity: 0 });
  objs = record.objects;
});

const open = (objects: readonly Uint8Array[], sequenceKey: string = KEY, recordKey: Uint8Array = record.recordKey, recordId: string = record.recordId) => openRecord(objects, sequenceKey, recordKey, recordId);
const replaced = (list: readonly Uint8Array[], index: number, bytes: Uint8Array): Uint8Array[] => list.map((f, i) => (i === index ? bytes : f));
const xorByte = (bytes: Uint8Array, at: number, mask = 0x01): Uint8Array => {
  const copy = bytes.slice();
  copy[at]! ^= mask;
  return copy;
};

/** Slots whose payloads overlap envelope bytes [start, end). */
function holders(placements: readonly { payloadStart: number; payloadEnd: number }[], start: number, end: number): number[] {
  return placements.flatMap((p, slot) => (p.payloadStart < end && p.payloadEnd > start ? [slot] : []));
}

async function expectOpens(objects: readonly Uint8Array[], sequenceKey: string, recordKey: Uint8Array, recordId: string, body: Uint8Array, metadata?: RecordMetadata): Promise<void> {
  const opened = await openRecord(objects, sequenceKey, recordKey, recordId);
  expect(toHex(opened.body)).toBe(toHex(body));
  if (metadata) expect(opened.metadata).toEqual(metadata);
}

describe('protectRecord / openRecord', () => {
  it("'adk21937' gives 8 objects of 92 + B bytes each, B = 52 + ⌈Padmé(T)/8⌉, and opens to the same bytes", async () => {
    expect(record.sequenceKey.chars).toEqual(CHARS);
    expect(record.recordKey).toHaveLength(16);
    expect(record.recordId).toMatch(/^[A-Za-z0-9_-]{22}$/u);
    expect(record.envelopeLength).toBe(T);
    expect(record.envelope).toHaveLength(T);
    const B = objectBodyLength(T, 8);
    expect(B).toBe(52 + 1600 / 8); // Padmé(1584) = 1600
    expect(objs).toHaveLength(8);
    for (const o of objs) expect(o).toHaveLength(HEAD_LENGTH + B);
    const opened = await open(objs);
    expect(toHex(opened.body)).toBe(toHex(BODY));
    expect(opened.metadata).toEqual(METADATA);
  });

  it('round-trips with the writers’ default Argon2id parameters (64 MiB, 4 passes), which the heads carry', async () => {
    const body = pseudoRandomBytes(3000, 9);
    const r = await protectRecord([body], fileMetadata(body.length), KEY, { chunkSize: 1024, parity: 0 });
    const locator = await deriveLocatorKeys(r.recordKey);
    for (const [slot, o] of r.objects.entries()) {
      const head = decodeHeadFields((await openHeadBytes(locator.head, recordIdBytes(r.recordId), o))!, slot);
      expect(head).toMatchObject({ version: 2, kind: 'data', n: 8, parityCount: 0, slot, kdf: DEFAULT_KDF, bodyLength: objectBodyLength(r.envelopeLength, 8), parityAlgorithm: 0 });
    }
    await expectOpens([...r.objects].reverse(), KEY, r.recordKey, r.recordId, body);
    await caught(() => openRecord(r.objects, 'adk21973', r.recordKey, r.recordId), 'WRONG_SEQUENCE_KEY');
  }, 30_000);

  it('works with multi-byte keys (accents, CJK, emoji, NFC) and any body size, objects given in reverse', async () => {
    for (const [sequenceKey, size] of [
      ['é中😀abcdß', 0],
      ['😀😁😂🤣😃😄😅😆', 77],
      ['中文字符测试一二三', 200],
      ['e\u0301中😀xyzw!', 5], // NFC: the first character is 'é'
    ] as const) {
      const body = pseudoRandomBytes(size, size + 1);
      const r = await protectRecord([body], fileMetadata(size), sequenceKey, { chunkSize: C, kdf: TEST_KDF, parity: 0 });
      const n = Array.from(sequenceKey.normalize('NFC')).length;
      expect(r.objects).toHaveLength(n);
      expect(new Set(r.objects.map((o) => o.length)).size).toBe(1);
      expect(r.objects[0]).toHaveLength(HEAD_LENGTH + objectBodyLength(r.envelopeLength, n));
      await expectOpens([...r.objects].reverse(), sequenceKey, r.recordKey, r.recordId, body);
      // The NFC and NFD spellings are one key.
      await expectOpens(r.objects, sequenceKey.normalize('NFD'), r.recordKey, r.recordId, body);
    }
  });

  it('opens the objects given in any order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(objs, { minLength: 8, maxLength: 8 }), async (shuffled) => {
        const opened = await open(shuffled);
        expect(toHex(opened.body)).toBe(toHex(BODY));
      }),
      { numRuns: 25 },
    );
  });

  it('uses the given record key and id, else fresh random ones', async () => {
    const recordKey = pseudoRandomBytes(16, 5);
    const recordId = 'AAECAwQFBgcICQoLDA0ODw';
    const a = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, recordKey, recordId, kdf: TEST_KDF, parity: 0 });
    expect(toHex(a.recordKey)).toBe(toHex(recordKey));
    expect(a.recordId).toBe(recordId);
    const b = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: TEST_KDF, parity: 0 });
    expect(toHex(b.recordKey)).not.toBe(toHex(record.recordKey));
    expect(b.recordId).not.toBe(record.recordId);
  });

  it('is deterministic only with a replaced random source, and craftRecord without overrides writes the same bytes', async () => {
    const recordKey = pseudoRandomBytes(16, 77);
    const recordId = 'AAECAwQFBgcICQoLDA0ODw';
    const a = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, recordKey, recordId, kdf: TEST_KDF, parity: 0, randomBytes: seededRandom(3) });
    const b = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, recordKey, recordId, kdf: TEST_KDF, parity: 0, randomBytes: seededRandom(3) });
    expect(a.objects.map(toHex)).toEqual(b.objects.map(toHex));
    const crafted = await craftRecord({ sequenceKey: KEY, recordKey, recordId, body: BODY, metadata: METADATA, chunkSize: C, randomBytes: seededRandom(3) });
    expect(toHex(crafted.envelope)).toBe(toHex(a.envelope));
    expect(crafted.objects.map(toHex)).toEqual(a.objects.map(toHex));
    const fresh = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, recordKey, recordId, kdf: TEST_KDF, parity: 0 });
    for (const [i, o] of fresh.objects.entries()) expect(toHex(o)).not.toBe(toHex(a.objects[i]!));
  });

  it('rejects an invalid sequence key (before anything else), a malformed record key or id, and a cancelled run', async () => {
    await caught(() => protectRecord([BODY], METADATA, 'Adk21224', { chunkSize: C, kdf: TEST_KDF, parity: 0 }), 'SEQUENCE_KEY_INVALID');
    await caught(() => open(objs, 'Adk 1234'), 'SEQUENCE_KEY_INVALID');
    await caught(() => open([], 'Adk12'), 'SEQUENCE_KEY_INVALID');
    await caught(() => open(objs, KEY, new Uint8Array(15)), 'INPUT_INVALID');
    await caught(() => open(objs, KEY, record.recordKey, 'AAECAwQFBgcICQoLDA0OD'), 'INPUT_INVALID');
    await caught(() => open(objs, KEY, record.recordKey, 'AAECAwQFBgcICQoLDA0ODx'), 'INPUT_INVALID'); // non-canonical
    await caught(() => protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: { memoryKiB: 4, passes: 1, parallelism: 1 } }), 'INPUT_INVALID');
    const controller = new AbortController();
    controller.abort();
    await caught(() => protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: TEST_KDF, parity: 0, signal: controller.signal }), 'ABORTED');
    await caught(() => openRecord(objs, KEY, record.recordKey, record.recordId, { signal: controller.signal }), 'ABORTED');
  });
});

describe('two secrets: the share text (K and R) and the sequence key (S)', () => {
  it('share text + the same characters permuted opens nothing: WRONG_SEQUENCE_KEY', async () => {
    const share = decodeShareText(encodeShareText({ recordId: record.recordId, recordKey: record.recordKey }));
    for (const wrong of ['adk21973', 'dak21937', 'dk21937a', '73912kda']) {
      let opened: unknown;
      const error = await caught(async () => (opened = await openRecord(objs, wrong, share.recordKey, share.recordId)), 'WRONG_SEQUENCE_KEY');
      expect(opened).toBeUndefined();
      expect(error.details).toEqual({});
    }
    await caught(() => openRecord(objs, 'adk21938', share.recordKey, share.recordId), 'WRONG_SEQUENCE_KEY');
  });

  it('a sequence key of another length is WRONG_SEQUENCE_KEY before any Argon2id', async () => {
    let stretched = 0;
    const stretch = async () => {
      stretched++;
      return new Uint8Array(32);
    };
    for (const [wrong, keyLength] of [['adk219370', 9], ['adk21937xyzw', 12], ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#', 64]] as const) {
      const error = await caught(() => openRecord(objs, wrong, record.recordKey, record.recordId, { stretch }), 'WRONG_SEQUENCE_KEY');
      expect(error.details).toEqual({ keyLength, expectedLength: 8 });
    }
    expect(stretched).toBe(0);
  });

  it('the right sequence key with a wrong record key or record id is WRONG_RECORD_KEY (every object blamed)', async () => {
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    let error = await caught(() => open(objs, KEY, record.recordKey.map((b) => b ^ 0x80)), 'WRONG_RECORD_KEY');
    expect(error.details.sources).toEqual(all);
    const otherId = record.recordId.startsWith('A') ? `B${record.recordId.slice(1)}` : `A${record.recordId.slice(1)}`;
    error = await caught(() => open(objs, KEY, record.recordKey, otherId), 'WRONG_RECORD_KEY');
    expect(error.details.sources).toEqual(all);
    // Wrong both ways: the record key is judged first.
    await caught(() => open(objs, 'adk21973', record.recordKey.map((b) => b ^ 1)), 'WRONG_RECORD_KEY');
  });

  it('both right: the bytes come back', async () => {
    const share = decodeShareText(encodeShareText({ recordId: record.recordId, recordKey: record.recordKey }));
    await expectOpens(objs, KEY, share.recordKey, share.recordId, BODY, METADATA);
  });
});

describe('§9 errors from the cloud side: objects missing, extra, cut, extended, mixed up', () => {
  it('no objects: FRAGMENT_MISSING naming every character (step 2)', async () => {
    const error = await caught(() => open([]), 'FRAGMENT_MISSING');
    expect(error.details).toEqual({ missing: CHARS, positions: [0, 1, 2, 3, 4, 5, 6, 7] });
  });

  it('a missing object: FRAGMENT_MISSING naming its character and position (step 10)', async () => {
    for (let i = 0; i < 8; i++) {
      const error = await caught(() => open(objs.filter((_, j) => j !== i)), 'FRAGMENT_MISSING');
      expect(error.details).toEqual({ missing: [CHARS[i]], positions: [i] });
      expect(error.message).toContain(`'${CHARS[i]}'`);
    }
    const two = await caught(() => open([objs[7]!, objs[1]!, objs[3]!, objs[4]!, objs[5]!, objs[0]!]), 'FRAGMENT_MISSING');
    expect(two.details).toEqual({ missing: ['k', '3'], positions: [2, 6] });
  });

  it('an object shorter than its head: FRAGMENT_TRUNCATED (step 3), all short ones named', async () => {
    for (const keep of [0, 1, 12, 75]) {
      const error = await caught(() => open(replaced(objs, 3, objs[3]!.subarray(0, keep))), 'FRAGMENT_TRUNCATED');
      expect(error.details).toEqual({ sources: [3] });
    }
    const error = await caught(() => open([objs[0]!.subarray(0, 10), ...objs.slice(1, 5), objs[5]!.subarray(0, 75), ...objs.slice(6)]), 'FRAGMENT_TRUNCATED');
    expect(error.details).toEqual({ sources: [0, 5] });
    // Step 3 comes before step 4: a short object among foreign ones is still TRUNCATED.
    await caught(() => open([...objs, new Uint8Array(5)], KEY, record.recordKey.map((b) => b ^ 1)), 'FRAGMENT_TRUNCATED');
  });

  it('an object cut inside its body (92 ≤ length < 92 + B): FRAGMENT_TRUNCATED (step 7)', async () => {
    const B = objs[0]!.length - HEAD_LENGTH;
    for (const keep of [HEAD_LENGTH, HEAD_LENGTH + 1, HEAD_LENGTH + 100, HEAD_LENGTH + B - 1]) {
      const error = await caught(() => open(replaced(objs, 6, objs[6]!.subarray(0, keep))), 'FRAGMENT_TRUNCATED');
      expect(error.details).toEqual({ sources: [6] });
    }
  });

  it('an object with bytes appended: FRAGMENT_MALFORMED (step 7)', async () => {
    for (const extra of [[0], [0x61], [1, 2, 3]]) {
      const error = await caught(() => open(replaced(objs, 3, concatBytes([objs[3]!, Uint8Array.from(extra)]))), 'FRAGMENT_MALFORMED');
      expect(error.details).toEqual({ sources: [3] });
    }
    // A cut object is reported before an extended one.
    const both = replaced(replaced(objs, 2, concatBytes([objs[2]!, Uint8Array.of(0)])), 5, objs[5]!.subarray(0, 100));
    expect((await caught(() => open(both), 'FRAGMENT_TRUNCATED')).details).toEqual({ sources: [5] });
  });

  it('an object of another record: FRAGMENT_FOREIGN (step 4); only foreign objects: WRONG_RECORD_KEY', async () => {
    const other = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: TEST_KDF, parity: 0 });
    let error = await caught(() => open(replaced(objs, 3, other.objects[3]!)), 'FRAGMENT_FOREIGN');
    expect(error.details).toEqual({ sources: [3] });
    error = await caught(() => open([...objs, other.objects[5]!]), 'FRAGMENT_FOREIGN');
    expect(error.details).toEqual({ sources: [8] });
    error = await caught(() => open([other.objects[0]!, ...objs.slice(1), other.objects[1]!]), 'FRAGMENT_FOREIGN');
    expect(error.details).toEqual({ sources: [0, 8] });
    // Same record key, another record id: the head's AAD binds the record.
    const sameKey = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: TEST_KDF, parity: 0, recordKey: record.recordKey });
    error = await caught(() => open(replaced(objs, 2, sameKey.objects[2]!)), 'FRAGMENT_FOREIGN');
    expect(error.details).toEqual({ sources: [2] });
    error = await caught(() => open(other.objects), 'WRONG_RECORD_KEY');
    expect(error.details).toEqual({ sources: [0, 1, 2, 3, 4, 5, 6, 7] });
    error = await caught(() => open([pseudoRandomBytes(objs[0]!.length, 3)]), 'WRONG_RECORD_KEY');
    expect(error.details).toEqual({ sources: [0] });
  });

  it('an object given twice: FRAGMENT_DUPLICATE naming both places (step 8)', async () => {
    const error = await caught(() => open([...objs, objs[4]!]), 'FRAGMENT_DUPLICATE');
    expect(error.details).toEqual({ sources: [4, 8] });
    // Every object holding a shared slot is named (§9: a step names all its failing objects).
    expect((await caught(() => open([objs[1]!, ...objs, objs[1]!]), 'FRAGMENT_DUPLICATE')).details).toEqual({ sources: [0, 2, 9] });
    // Before anything needs the sequence key.
    await caught(() => open([objs[1]!, ...objs], 'adk21973'), 'FRAGMENT_DUPLICATE');
  });

  it('objects of two protections of one record with equal parameters mix into FRAGMENT_TAMPERED, never plaintext', async () => {
    const recordId = 'AAECAwQFBgcICQoLDA0ODw';
    // One protect batch (one KDF salt): the heads agree, so the mix is caught by the frames.
    const batch = await stretchForBatch(parseSequenceKey(KEY), TEST_KDF);
    const a = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, batch, parity: 0, recordKey: record.recordKey, recordId });
    const b = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, batch, parity: 0, recordKey: record.recordKey, recordId });
    for (const i of [0, 3, 7]) {
      const error = await caught(() => openRecord(replaced(a.objects, i, b.objects[i]!), KEY, record.recordKey, recordId), 'FRAGMENT_TAMPERED');
      expect(error.details.indexChars).toContain(CHARS[i]);
    }
    // Two batches: the heads name different KDF salts, objects of different protections (step 8).
    const c = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, kdf: TEST_KDF, parity: 0, recordKey: record.recordKey, recordId });
    expect((await caught(() => openRecord(replaced(a.objects, 3, c.objects[3]!), KEY, record.recordKey, recordId), 'CHAIN_BROKEN')).details.sources).toEqual([3]);
  });
});

describe('§9 errors from a changed byte: every region of an object, the exact fragment blamed', () => {
  it('a byte changed in the head (bytes 0–75): FRAGMENT_FOREIGN naming that object (step 4)', async () => {
    for (let at = 0; at < HEAD_LENGTH; at++) {
      const error = await caught(() => open(replaced(objs, 3, xorByte(objs[3]!, at, 1 << at % 8))), 'FRAGMENT_FOREIGN');
      expect(error.details).toEqual({ sources: [3] });
    }
  });

  it('a byte changed in the frame prefix, next character, MAC or padding: FRAGMENT_TAMPERED naming exactly that fragment (step 11)', async () => {
    const B = objs[0]!.length - HEAD_LENGTH;
    const suffixStart = HEAD_LENGTH + PREFIX + PAYLOAD;
    const regions: [string, number[]][] = [
      ['prefix', Array.from({ length: PREFIX }, (_, k) => HEAD_LENGTH + k)],
      ['next character', [suffixStart]],
      ['MAC', [suffixStart + 1, suffixStart + 16, suffixStart + 32]],
      ['padding', [suffixStart + 33, suffixStart + 40, HEAD_LENGTH + B - 1]],
    ];
    expect(suffixStart + 33).toBeLessThan(HEAD_LENGTH + B); // this record has padding
    for (const slot of [0, 5, 7]) {
      for (const [region, offsets] of regions) {
        for (const at of offsets) {
          const error = await caught(() => open(replaced(objs, slot, xorByte(objs[slot]!, at, 0x80))), 'FRAGMENT_TAMPERED');
          expect(error.details, `${region} byte ${at} of slot ${slot}`).toEqual({ indexChars: [CHARS[slot]], slots: [slot], sources: [slot] });
        }
      }
    }
    // Two damaged objects: both named, in slot order, with their places in the input list.
    const shuffled = [objs[6]!, ...objs.slice(0, 6), objs[7]!];
    const twice = replaced(replaced(shuffled, 0, xorByte(shuffled[0]!, HEAD_LENGTH + 2)), 3, xorByte(shuffled[3]!, HEAD_LENGTH + B - 1));
    // §9: sources ascending (places in the input list); indexChars by slot.
    expect((await caught(() => open(twice), 'FRAGMENT_TAMPERED')).details).toEqual({ indexChars: ['k', '3'], slots: [2, 6], sources: [0, 3] });
  });

  it('a byte changed in a payload: FRAGMENT_TAMPERED blaming the fragments that hold the failing segment, that one included', async () => {
    const placements = Array.from({ length: 8 }, (_, i) => ({ payloadStart: i * PAYLOAD, payloadEnd: (i + 1) * PAYLOAD }));
    // Envelope segments: header (§9 step 13), metadata (step 14), body chunks of 64 + 16 bytes (step 15).
    const segmentOf = (e: number): [number, number, number | undefined] => {
      if (e < HEADER_LENGTH) return [0, HEADER_LENGTH, undefined];
      if (e < HEADER_LENGTH + 272) return [HEADER_LENGTH, HEADER_LENGTH + 272, undefined];
      const chunk = Math.floor((e - HEADER_LENGTH - 272) / (C + TAG_LENGTH));
      const start = HEADER_LENGTH + 272 + chunk * (C + TAG_LENGTH);
      return [start, Math.min(T, start + C + TAG_LENGTH), chunk];
    };
    for (let e = 0; e < T; e += e < HEADER_LENGTH ? 1 : 13) {
      const slot = Math.floor(e / PAYLOAD);
      const at = HEAD_LENGTH + PREFIX + (e - slot * PAYLOAD);
      const error = await caught(() => open(replaced(objs, slot, xorByte(objs[slot]!, at, 1 << e % 8))), 'FRAGMENT_TAMPERED');
      const [start, end, chunk] = segmentOf(e);
      const blamed = holders(placements, start, end);
      expect(blamed).toContain(slot);
      expect(error.details.indexChars, `envelope byte ${e}`).toEqual(blamed.map((s) => CHARS[s]));
      expect(error.details.sources).toEqual(blamed);
      expect(error.details.chunk).toBe(chunk);
    }
  });

  it('a byte changed in the envelope header names the fragments holding bytes 0–55, even with 64 tiny fragments', async () => {
    // 64 fragments of a small record: the header spans several of them (FORMAT.md §9 step 13).
    const longKey = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#';
    const small = await craftRecord({ sequenceKey: longKey, body: new Uint8Array(0) });
    const chars = small.sequenceKey.chars;
    const blamedHeader = holders(small.placements, 0, HEADER_LENGTH);
    expect(blamedHeader.length).toBeGreaterThan(1);
    for (let e = 0; e < HEADER_LENGTH; e++) {
      const slot = holders(small.placements, e, e + 1)[0]!;
      const p = small.placements[slot]!;
      const spoiled = replaced(small.objects, slot, xorByte(small.objects[slot]!, p.objectOffset + e - p.payloadStart));
      const error = await caught(() => openRecord(spoiled, longKey, small.recordKey, small.recordId), 'FRAGMENT_TAMPERED');
      expect(error.details.indexChars).toEqual(blamedHeader.map((s) => chars[s]));
      expect(error.details.envelopeError).toBe('ENVELOPE_TAMPERED');
    }
  });

  it('payloads swapped between two objects (frames kept): FRAGMENT_TAMPERED', async () => {
    const a = 2;
    const b = 5;
    const pa = objs[a]!.subarray(HEAD_LENGTH + PREFIX, HEAD_LENGTH + PREFIX + PAYLOAD);
    const pb = objs[b]!.subarray(HEAD_LENGTH + PREFIX, HEAD_LENGTH + PREFIX + PAYLOAD);
    const swapped = objs.map((o) => o.slice());
    swapped[a]!.set(pb, HEAD_LENGTH + PREFIX);
    swapped[b]!.set(pa, HEAD_LENGTH + PREFIX);
    const error = await caught(() => open(swapped), 'FRAGMENT_TAMPERED');
    expect(error.details.indexChars).toContain(CHARS[a]);
    // Whole bodies swapped (heads kept): each body is sealed with its own slot's keystream.
    const bodies: Uint8Array[] = objs.map((o) => o.slice());
    bodies[a] = concatBytes([objs[a]!.subarray(0, HEAD_LENGTH), objs[b]!.subarray(HEAD_LENGTH)]);
    bodies[b] = concatBytes([objs[b]!.subarray(0, HEAD_LENGTH), objs[a]!.subarray(HEAD_LENGTH)]);
    expect((await caught(() => open(bodies), 'FRAGMENT_TAMPERED')).details).toMatchObject({ indexChars: [CHARS[a], CHARS[b]], sources: [a, b] });
  });
});

describe('§9 errors only a writer holding the keys can cause (crafted objects, craft.ts)', () => {
  let base: CraftedRecord;
  beforeAll(async () => {
    base = await craftRecord();
  });
  const craftOpen = async (options: CraftOptions, code: ErrorCode, sequenceKey = KEY) => {
    const c = await craftRecord({ recordId: base.recordId, ...options });
    return caught(() => openRecord(c.objects, sequenceKey, c.recordKey, c.recordId), code);
  };

  it('the crafted base record opens; so do records with parity objects, present or not (§4.4)', async () => {
    await expectOpens(base.objects, KEY, base.recordKey, base.recordId, base.body);
    const withParity = await craftRecord({ parity: 2 });
    expect(withParity.objects).toHaveLength(10);
    await expectOpens([...withParity.objects].reverse(), KEY, withParity.recordKey, withParity.recordId, withParity.body);
    await expectOpens(withParity.objects.slice(0, 8), KEY, withParity.recordKey, withParity.recordId, withParity.body);
  });

  it('a head of another version: FRAGMENT_UNSUPPORTED naming it (step 5)', async () => {
    for (const version of [1, 3, 255]) {
      const error = await craftOpen({ head: (slot) => (slot === 2 ? { version } : undefined) }, 'FRAGMENT_UNSUPPORTED');
      expect(error.details).toEqual({ sources: [2], version });
    }
  });

  it('an authentic head out of range: FRAGMENT_MALFORMED naming it (step 6)', async () => {
    const cases: [string, CraftOptions['head'] | undefined, CraftOptions['headBytes'] | undefined][] = [
      ['kind parity on a data slot', () => ({ kind: 'parity' }), undefined],
      ['kind 2', undefined, (_, b) => void (b[1] = 2)],
      ['n = 7', () => ({ n: 7 }), undefined],
      ['n = 65', () => ({ n: 65 }), undefined],
      ['p = 65', () => ({ parityCount: 65, parityAlgorithm: 1 }), undefined],
      ['slot ≥ n + p', () => ({ slot: 8 }), undefined],
      ['KDF id 2', undefined, (_, b) => void (b[8] = 2)],
      ['P = 2', () => ({ kdf: { ...TEST_KDF, parallelism: 2 } }), undefined],
      ['T = 0', () => ({ kdf: { ...TEST_KDF, passes: 0 } }), undefined],
      ['T = 17', () => ({ kdf: { ...TEST_KDF, passes: 17 } }), undefined],
      ['Mem = 7', () => ({ kdf: { ...TEST_KDF, memoryKiB: 7 } }), undefined],
      ['Mem = 262,145', () => ({ kdf: { ...TEST_KDF, memoryKiB: 262_145 } }), undefined],
      ['B = 52', () => ({ bodyLength: 52 }), undefined],
      ['B = 2^53', () => ({ bodyLength: 2 ** 53 }), undefined],
      ['B = 2^64 − 1', undefined, (_, b) => b.fill(0xff, 16, 24)],
      ['parity algorithm 1 with p = 0', () => ({ parityAlgorithm: 1 }), undefined],
      ['parity algorithm 2 with p = 1', () => ({ parityCount: 1, parityAlgorithm: 2 }), undefined],
      ['reserved byte 41', undefined, (_, b) => void (b[41] = 1)],
      ['reserved byte 47', undefined, (_, b) => void (b[47] = 0x80)],
    ];
    for (const [what, head, headBytes] of cases) {
      const only4 = <T,>(f: ((slot: number, x: T) => unknown) | undefined) => (f ? (slot: number, x: T) => (slot === 4 ? f(slot, x) : undefined) : undefined);
      const c = await craftRecord({ recordId: base.recordId, head: only4(head) as CraftOptions['head'], headBytes: only4(headBytes) as CraftOptions['headBytes'] });
      const error = await caught(() => openRecord(c.objects, KEY, c.recordKey, c.recordId), 'FRAGMENT_MALFORMED');
      expect(error.details, what).toEqual({ sources: [4] });
    }
  });

  it('a head whose B differs: FRAGMENT_TRUNCATED or FRAGMENT_MALFORMED by the object length (step 7)', async () => {
    let error = await craftOpen({ head: (slot, f) => (slot === 1 ? { bodyLength: f.bodyLength + 1 } : undefined) }, 'FRAGMENT_TRUNCATED');
    expect(error.details).toEqual({ sources: [1] });
    error = await craftOpen({ head: (slot, f) => (slot === 1 ? { bodyLength: f.bodyLength - 1 } : undefined) }, 'FRAGMENT_MALFORMED');
    expect(error.details).toEqual({ sources: [1] });
  });

  it('heads of different protections: CHAIN_BROKEN; two objects claiming one slot: FRAGMENT_DUPLICATE (step 8)', async () => {
    // The heads are compared with the first object's; the ones that differ are named.
    let error = await craftOpen({ head: (slot) => (slot === 6 ? { kdf: { ...TEST_KDF, passes: 2 } } : undefined) }, 'CHAIN_BROKEN');
    expect(error.details).toEqual({ sources: [6] });
    error = await craftOpen({ head: (slot, f) => (slot === 3 || slot === 5 ? { check: f.check.map((b) => b ^ 1) } : undefined) }, 'CHAIN_BROKEN');
    expect(error.details).toEqual({ sources: [3, 5] });
    error = await craftOpen({ head: (slot) => (slot === 3 ? { slot: 2 } : undefined) }, 'FRAGMENT_DUPLICATE');
    expect(error.details).toEqual({ sources: [2, 3] });
  });

  it('a head check value that is not this key’s, or KDF parameters other than the ones used: WRONG_SEQUENCE_KEY (step 9)', async () => {
    await craftOpen({ head: (_, f) => ({ check: f.check.map((b) => b ^ 0x55) }) }, 'WRONG_SEQUENCE_KEY');
    await craftOpen({ head: () => ({ kdf: { ...TEST_KDF, memoryKiB: 128 } }) }, 'WRONG_SEQUENCE_KEY');
  });

  it('a frame that does not fit in B, non-zero padding, a lying payload length: FRAGMENT_TAMPERED (step 11)', async () => {
    let error = await craftOpen({ padding: (slot, p) => void (slot === 5 && (p[p.length - 1] = 1)) }, 'FRAGMENT_TAMPERED');
    expect(error.details).toEqual({ indexChars: ['9'], slots: [5], sources: [5] });
    error = await craftOpen({ frame: (slot, f) => (slot === 1 ? { payloadLength: f.payloadLength + 100 } : undefined) }, 'FRAGMENT_TAMPERED');
    expect(error.details).toEqual({ indexChars: ['d'], slots: [1], sources: [1] });
    error = await craftOpen({ frame: (slot) => (slot === 1 ? { payloadLength: 2 ** 53 - 1 } : undefined) }, 'FRAGMENT_TAMPERED');
    expect(error.details).toEqual({ indexChars: ['d'], slots: [1], sources: [1] });
  });

  it('frames chained wrongly: CHAIN_LOOP back to an earlier or the same fragment, CHAIN_BROKEN otherwise (step 12)', async () => {
    const at = (target: number, fields: Partial<CraftedRecord['frames'][number]>): CraftOptions => ({ frame: (slot) => (slot === target ? fields : undefined) });
    let error = await craftOpen(at(2, { nextChar: 'a' }), 'CHAIN_LOOP');
    expect(error.details).toEqual({ from: 'k', to: 'a', indexChars: ['k'] });
    error = await craftOpen(at(2, { nextChar: 'k' }), 'CHAIN_LOOP');
    expect(error.details).toEqual({ from: 'k', to: 'k', indexChars: ['k'] });
    error = await craftOpen(at(7, { nextChar: '2' }), 'CHAIN_LOOP'); // the ring closes at 'a' only
    expect(error.details).toEqual({ from: '7', to: '2', indexChars: ['7'] });
    error = await craftOpen(at(1, { nextChar: '2' }), 'CHAIN_BROKEN'); // jumps forward over 'k'
    expect(error.details).toEqual({ from: 'd', to: '2', indexChars: ['d'] });
    error = await craftOpen(at(1, { nextChar: 'Z' }), 'CHAIN_BROKEN'); // a character outside the key
    expect(error.details).toEqual({ from: 'd', to: 'Z', indexChars: ['d'] });
    error = await craftOpen(at(2, { position: 1 }), 'CHAIN_BROKEN');
    expect(error.details).toEqual({ indexChars: ['k'], position: 2 });
    error = await craftOpen(at(2, { n: 9 }), 'CHAIN_BROKEN');
    expect(error.details).toEqual({ indexChars: ['k'], position: 2 });
    error = await craftOpen(at(3, { indexChar: 'Z' }), 'CHAIN_BROKEN');
    expect(error.details).toEqual({ indexChars: ['2'], position: 3 });
  });

  it('the first failing chain position is reported, whatever kind of failure comes later (step 12)', async () => {
    const frame: CraftOptions['frame'] = (slot) => (slot === 1 ? { nextChar: 'a' } : slot === 5 ? { n: 9 } : slot === 6 ? { indexChar: 'Z' } : undefined);
    const error = await craftOpen({ frame }, 'CHAIN_LOOP');
    expect(error.details).toEqual({ from: 'd', to: 'a', indexChars: ['d'] });
    const broken = await craftOpen({ frame: (slot) => (slot === 2 ? { nextChar: '9' } : slot === 4 ? { position: 0 } : undefined) }, 'CHAIN_BROKEN');
    expect(broken.details).toEqual({ from: 'k', to: '9', indexChars: ['k'] });
  });

  it('envelope shorter than its header; a commitment that does not match; authentic header fields out of range (step 13)', async () => {
    await craftOpen({ envelopeLength: 40 }, 'ENVELOPE_TRUNCATED');
    const noCommit = await craftRecord({ recordId: base.recordId, header: { version: 3, recommit: false } });
    const error = await caught(() => openRecord(noCommit.objects, KEY, noCommit.recordKey, noCommit.recordId), 'FRAGMENT_TAMPERED');
    const headerHolders = holders(noCommit.placements, 0, HEADER_LENGTH);
    expect(error.details).toMatchObject({ indexChars: headerHolders.map((s) => CHARS[s]), sources: headerHolders, envelopeError: 'ENVELOPE_TAMPERED' });
    await craftOpen({ header: { magic: new TextEncoder().encode('EHRW') } }, 'ENVELOPE_MALFORMED');
    for (const header of [{ version: 1 }, { version: 3 }, { algorithm: 2 }, { flags: 1 }]) await craftOpen({ header }, 'ENVELOPE_UNSUPPORTED');
    for (const header of [{ chunkSize: 63 }, { chunkSize: 16_777_217 }, { metadataLength: 16 + 255 }, { metadataLength: 16 + 65_792 }, { reserved: 1 }]) await craftOpen({ header }, 'ENVELOPE_MALFORMED');
  });

  it('envelope cut in its metadata; metadata failing AES-GCM; metadata breaking §6 (step 14)', async () => {
    await craftOpen({ envelopeLength: HEADER_LENGTH + 100 }, 'ENVELOPE_TRUNCATED');
    const flipped = await craftRecord({ recordId: base.recordId, envelope: (e) => xorByte(e, HEADER_LENGTH + 10) });
    const error = await caught(() => openRecord(flipped.objects, KEY, flipped.recordKey, flipped.recordId), 'FRAGMENT_TAMPERED');
    expect(error.details.indexChars).toEqual(holders(flipped.placements, HEADER_LENGTH, HEADER_LENGTH + 272).map((s) => CHARS[s]));
    for (const json of [
      '{"kind":"image","name":"a","mime":"","byteLength":1000,"image":{"width":1000,"height":1,"pixelFormat":"CMYK8"}}',
      '{"kind":"folder","name":"a","mime":"","byteLength":1000}',
      '{"kind":"file","name":"a","mime":"","byteLength":1000.5}',
      '[]',
      '{"kind":"file",',
    ]) {
      await craftOpen({ metadataJson: json }, 'METADATA_INVALID');
    }
    const padded = new Uint8Array(256);
    const json = new TextEncoder().encode('{"kind":"file","name":"a","mime":"","byteLength":1000}');
    new DataView(padded.buffer).setUint32(0, json.length);
    padded.set(json, 4);
    padded[255] = 1;
    await craftOpen({ metadataBlock: padded }, 'METADATA_INVALID');
  });

  it('envelope shorter or longer than its metadata says (canonical padding): ENVELOPE_TRUNCATED / ENVELOPE_TRAILING_DATA; B not canonical: ENVELOPE_MALFORMED (step 14)', async () => {
    for (const delta of [-1, -16, -(C + TAG_LENGTH)]) await craftOpen({ envelopeLength: base.envelope.length + delta }, 'ENVELOPE_TRUNCATED');
    for (const delta of [1, 100]) await craftOpen({ envelopeLength: base.envelope.length + delta }, 'ENVELOPE_TRAILING_DATA');
    for (const delta of [1, 8, -1]) {
      const error = await craftOpen({ bodyLength: base.bodyLength + delta }, 'ENVELOPE_MALFORMED');
      expect(error.details).toEqual({ bodyLength: base.bodyLength + delta, envelopeLength: base.envelope.length });
    }
  });

  it('a damaged body chunk: FRAGMENT_TAMPERED naming its chunk and the one or two fragments holding it (step 15)', async () => {
    // Chunk k is at [56 + 272 + 80k, +80); payloads are 198 bytes, so some chunks straddle two fragments.
    for (const chunk of [0, 3, 12]) {
      const start = HEADER_LENGTH + 272 + chunk * (C + TAG_LENGTH);
      const end = start + C + TAG_LENGTH;
      const c = await craftRecord({ recordId: base.recordId, envelope: (e) => xorByte(e, end - 1) });
      const error = await caught(() => openRecord(c.objects, KEY, c.recordKey, c.recordId), 'FRAGMENT_TAMPERED');
      const blamed = holders(c.placements, start, end);
      expect(error.details).toMatchObject({ chunk, indexChars: blamed.map((s) => CHARS[s]), sources: blamed });
    }
    expect(holders(base.placements, HEADER_LENGTH + 272 + 3 * 80, HEADER_LENGTH + 272 + 4 * 80)).toHaveLength(2);
  });
});

describe('one scenario per code of §9.1 (craft.ts errorScenarios, reusable as negative vectors)', () => {
  it('every code a reader can report is reached through openRecord, with the expected blame and no plaintext', async () => {
    const scenarios = await errorScenarios({ randomBytes: seededRandom(9) });
    const reached = new Set<string>();
    for (const s of scenarios) {
      let opened: unknown;
      const error = await caught(async () => (opened = await openRecord(s.objects, s.sequenceKey, s.recordKey, s.recordId)), s.expect.error as ErrorCode);
      expect(opened, s.name).toBeUndefined();
      if (s.expect.sources) expect(error.details.sources, s.name).toEqual(s.expect.sources);
      if (s.expect.indexChars) expect(error.details.indexChars, s.name).toEqual(s.expect.indexChars);
      if (s.expect.missing) expect(error.details.missing, s.name).toEqual(s.expect.missing);
      reached.add(error.code);
    }
    const readingCodes = ALL_ERROR_CODES.filter((c) => !['ABORTED', 'INPUT_INVALID', 'KEY_TEXT_INVALID', 'SHARE_TEXT_INVALID', 'ENVELOPE_TAMPERED', 'SOURCE_LENGTH_MISMATCH'].includes(c));
    expect([...reached].sort()).toEqual([...readingCodes].sort());
  });
});
