import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HEADER_LENGTH,
  concatBytes,
  deriveRecordKeys,
  mergeFragments,
  openRecord,
  parseFragment,
  parseSequenceKey,
  payloadRange,
  protectRecord,
  readU16,
  readU64,
  sealFragmentFrames,
  sealFrame,
  splitEnvelope,
  splitStream,
  toHex,
  type ErrorCode,
  type FrameFields,
  type ProtectedRecord,
  type RecordKeys,
} from '../../../src/core/index.js';
import { asAsync, buildEnvelopeFromSpec, caught, fileMetadata, flipBit, pseudoRandomBytes, sealToBytes, splitBySizes, utf8 } from './helpers.js';

const KEY = 'adk21937';
const CHARS = Array.from(KEY);
const C = 64;
/** 40 + 272 + 1000 + 16 × 16 = 1568 = 8 × 196: every payload is 196 bytes. */
const BODY = pseudoRandomBytes(1000, 42);
const METADATA = fileMetadata(BODY.length, 'note.txt', 'text/plain');
/** Fixed header length after the index character. */
const FIXED = 46;

let record: ProtectedRecord;
let keys: RecordKeys;
let frags: Uint8Array[];

beforeAll(async () => {
  record = await protectRecord([BODY], METADATA, KEY, { chunkSize: C });
  keys = await deriveRecordKeys(record.recordKey);
  frags = record.fragments.map((f) => f.bytes);
});

const open = (fragments: readonly Uint8Array[], sequenceKey: string = KEY, recordKey: Uint8Array = record.recordKey) => openRecord(fragments, sequenceKey, recordKey);
const replaced = (index: number, bytes: Uint8Array): Uint8Array[] => frags.map((f, i) => (i === index ? bytes : f));

function payloadOf(bytes: Uint8Array): Uint8Array {
  const parsed = parseFragment(bytes);
  return bytes.subarray(parsed.payloadOffset, parsed.payloadOffset + parsed.payloadLength);
}

/** An authentic fragment (right record key) with the given frame fields changed, carrying fragment `index`'s payload. */
async function craft(index: number, fields: Partial<FrameFields>, payload: Uint8Array = payloadOf(frags[index]!)): Promise<Uint8Array> {
  const p = parseFragment(frags[index]!);
  const frame = await sealFrame(keys, { indexChar: p.indexChar, nextChar: p.nextChar, n: p.n, position: p.position, payloadLength: payload.length, ...fields });
  return concatBytes([frame.prefix, payload, frame.suffix]);
}

function layoutChecks(sequenceKey: string, fragments: readonly Uint8Array[], envelopeLength: number): void {
  const chars = parseSequenceKey(sequenceKey).chars;
  const n = chars.length;
  expect(fragments).toHaveLength(n);
  const payloadLengths: number[] = [];
  fragments.forEach((bytes, i) => {
    const own = utf8(chars[i]!);
    const next = utf8(chars[(i + 1) % n]!);
    expect(toHex(bytes.subarray(0, own.length))).toBe(toHex(own));
    expect(toHex(bytes.subarray(bytes.length - next.length))).toBe(toHex(next));
    const o = own.length;
    expect(bytes[o]).toBe(1); // version
    expect(bytes[o + 1]).toBe(0); // flags
    expect(readU16(bytes, o + 2)).toBe(n);
    expect(readU16(bytes, o + 4)).toBe(i);
    const payloadLength = readU64(bytes, o + 6);
    expect(bytes.length).toBe(own.length + FIXED + payloadLength + next.length);
    expect(parseFragment(bytes)).toMatchObject({ indexChar: chars[i], nextChar: chars[(i + 1) % n], n, position: i, payloadLength, payloadOffset: o + FIXED });
    payloadLengths.push(payloadLength);
  });
  expect(Math.max(...payloadLengths) - Math.min(...payloadLengths)).toBeLessThanOrEqual(1);
  expect(payloadLengths.reduce((a, b) => a + b, 0)).toBe(envelopeLength);
}

describe('protectRecord / openRecord', () => {
  it("'adk21937' gives 8 fragments, one per character, in key order", () => {
    expect(record.fragments.map((f) => f.indexChar)).toEqual(CHARS);
    expect(record.sequenceKey.chars).toEqual(CHARS);
    expect(record.recordKey).toHaveLength(16);
    expect(record.envelopeLength).toBe(1568);
  });

  it('fragment i is key[i] ‖ header ‖ payload ‖ key[i+1]; the last ends with key[0]; payloads differ by at most 1', () => {
    layoutChecks(KEY, frags, record.envelopeLength);
    expect(frags[7]!.at(-1)).toBe('a'.charCodeAt(0));
  });

  it('opens to the original body and metadata', async () => {
    const opened = await open(frags);
    expect(toHex(opened.body)).toBe(toHex(BODY));
    expect(opened.metadata).toEqual(METADATA);
  });

  it('works with multi-byte keys (accents, CJK, emoji) and uneven payload sizes', async () => {
    for (const [sequenceKey, size] of [
      ['é中😀abcdß', 0],
      ['😀😁😂🤣😃😄😅😆', 77],
      ['中文字符测试一二三', 200],
      ['e\u0301中😀xyzw!', 5], // NFC: the first character is 'é'
    ] as const) {
      const body = pseudoRandomBytes(size, size + 1);
      const protectedRecord = await protectRecord([body], fileMetadata(size), sequenceKey, { chunkSize: C });
      layoutChecks(sequenceKey.normalize('NFC'), protectedRecord.fragments.map((f) => f.bytes), protectedRecord.envelopeLength);
      const reversed = protectedRecord.fragments.map((f) => f.bytes).reverse();
      const opened = await openRecord(reversed, sequenceKey, protectedRecord.recordKey);
      expect(toHex(opened.body)).toBe(toHex(body));
    }
  });

  it('accepts the fragments in any order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(frags, { minLength: 8, maxLength: 8 }), async (shuffled) => {
        const opened = await open(shuffled);
        expect(toHex(opened.body)).toBe(toHex(BODY));
      }),
      { numRuns: 40 },
    );
  });

  it('uses the given record key, else a fresh random one', async () => {
    const recordKey = pseudoRandomBytes(16, 5);
    const a = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, recordKey });
    expect(toHex(a.recordKey)).toBe(toHex(recordKey));
    const b = await protectRecord([BODY], METADATA, KEY, { chunkSize: C });
    expect(toHex(b.recordKey)).not.toBe(toHex(record.recordKey));
  });

  it('rejects an invalid sequence key, a malformed record key and a cancelled run', async () => {
    await caught(() => protectRecord([BODY], METADATA, 'Adk21224', { chunkSize: C }), 'SEQUENCE_KEY_INVALID');
    await caught(() => open(frags, 'Adk 1234'), 'SEQUENCE_KEY_INVALID');
    await caught(() => open(frags, KEY, new Uint8Array(15)), 'INPUT_INVALID');
    const controller = new AbortController();
    controller.abort();
    await caught(() => protectRecord([BODY], METADATA, KEY, { chunkSize: C, signal: controller.signal }), 'ABORTED');
    await caught(() => openRecord(frags, KEY, record.recordKey, { signal: controller.signal }), 'ABORTED');
  });
});

describe('splitEnvelope / mergeFragments / splitStream', () => {
  it('splitting then merging gives the envelope back, and protectRecord splits the same way', async () => {
    const fixed = (n: number) => new Uint8Array(n).fill(7);
    const envelope = await sealToBytes(keys, METADATA, [BODY], { chunkSize: C, randomBytes: fixed });
    const split = await splitEnvelope(keys, parseSequenceKey(KEY), envelope);
    expect(split.map((f) => f.indexChar)).toEqual(CHARS);
    const merged = await mergeFragments(keys, parseSequenceKey(KEY), split.map((f) => f.bytes).reverse());
    expect(toHex(merged.envelope)).toBe(toHex(envelope));
    expect(merged.order.map((f) => f.source)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
    const streamed = await protectRecord([BODY], METADATA, KEY, { chunkSize: C, randomBytes: fixed, recordKey: record.recordKey });
    expect(streamed.fragments.map((f) => toHex(f.bytes))).toEqual(split.map((f) => toHex(f.bytes)));
  });

  it('splitStream routes any piece sizes into the same fragments, marking the last piece of each', async () => {
    const envelope = (await mergeFragments(keys, record.sequenceKey, frags)).envelope;
    const frames = await sealFragmentFrames(keys, record.sequenceKey, envelope.length);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 10 }), async (sizes) => {
        const parts: Uint8Array[][] = frames.map(() => []);
        const lastFlags: boolean[][] = frames.map(() => []);
        for await (const piece of splitStream(asAsync(splitBySizes(envelope, sizes)), frames)) {
          parts[piece.position]!.push(piece.bytes.slice());
          lastFlags[piece.position]!.push(piece.last);
        }
        expect(parts.map((p) => toHex(concatBytes(p)))).toEqual(frags.map((f) => toHex(f)));
        for (const flags of lastFlags) expect(flags.indexOf(true)).toBe(flags.length - 1);
      }),
      { numRuns: 50 },
    );
  });

  it('splitStream rejects an envelope shorter or longer than planned with SOURCE_LENGTH_MISMATCH', async () => {
    const envelope = (await mergeFragments(keys, record.sequenceKey, frags)).envelope;
    const frames = await sealFragmentFrames(keys, record.sequenceKey, envelope.length);
    const drain = async (source: Uint8Array[]) => {
      for await (const piece of splitStream(source, frames)) void piece;
    };
    await caught(() => drain([envelope.subarray(1)]), 'SOURCE_LENGTH_MISMATCH');
    await caught(() => drain([envelope, Uint8Array.of(0)]), 'SOURCE_LENGTH_MISMATCH');
  });

  it('payloadRange splits near-equally and covers every byte once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 64 }), fc.integer({ min: 64, max: 100_000 }), (n, total) => {
        let previousEnd = 0;
        const sizes: number[] = [];
        for (let i = 0; i < n; i++) {
          const { start, end } = payloadRange(total, n, i);
          expect(start).toBe(previousEnd);
          sizes.push(end - start);
          previousEnd = end;
        }
        expect(previousEnd).toBe(total);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to plan more fragments than envelope bytes', async () => {
    await caught(() => sealFragmentFrames(keys, record.sequenceKey, 7), 'INPUT_INVALID');
  });
});

describe('merge errors: which fragments are there', () => {
  it('a missing fragment is FRAGMENT_MISSING naming its character and position', async () => {
    for (let i = 0; i < 8; i++) {
      const error = await caught(() => open(frags.filter((_, j) => j !== i)), 'FRAGMENT_MISSING');
      expect(error.details.missing).toEqual([CHARS[i]]);
      expect(error.details.positions).toEqual([i]);
      expect(error.message).toContain(`'${CHARS[i]}'`);
    }
    const two = await caught(() => open([frags[0]!, frags[1]!, frags[3]!, frags[4]!, frags[5]!, frags[7]!]), 'FRAGMENT_MISSING');
    expect(two.details.missing).toEqual(['k', '3']);
    expect(two.details.positions).toEqual([2, 6]);
    const none = await caught(() => open([]), 'FRAGMENT_MISSING');
    expect(none.details.missing).toEqual(CHARS);
  });

  it('a fragment given twice is FRAGMENT_DUPLICATE', async () => {
    const error = await caught(() => open([...frags, frags[4]!]), 'FRAGMENT_DUPLICATE');
    expect(error.details).toEqual({ indexChar: '1', sources: [4, 8] });
  });

  it("a fragment of another record (same sequence key, other record key) is FRAGMENT_FOREIGN", async () => {
    const other = await protectRecord([BODY], METADATA, KEY, { chunkSize: C });
    let error = await caught(() => open(replaced(3, other.fragments[3]!.bytes)), 'FRAGMENT_FOREIGN');
    expect(error.details).toEqual({ indexChars: ['2'], sources: [3] });
    error = await caught(() => open([...frags, other.fragments[5]!.bytes]), 'FRAGMENT_FOREIGN');
    expect(error.details).toEqual({ indexChars: ['9'], sources: [8] });
  });

  it('all fragments under a wrong record key is WRONG_RECORD_KEY', async () => {
    const error = await caught(() => open(frags, KEY, record.recordKey.map((b) => b ^ 0x80)), 'WRONG_RECORD_KEY');
    expect(error.details.sources).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a different sequence key is WRONG_SEQUENCE_KEY: other characters, other order, other length', async () => {
    for (const wrong of ['adk21938', 'dak21937', 'dk21937a', 'adk219370', '73912kda']) {
      await caught(() => open(frags, wrong), 'WRONG_SEQUENCE_KEY');
    }
    const length = await caught(() => open(frags, 'adk219370'), 'WRONG_SEQUENCE_KEY');
    expect(length.details).toEqual({ expectedLength: 8, keyLength: 9 });
    const chars = await caught(() => open(frags, 'Xdk21937'), 'WRONG_SEQUENCE_KEY');
    expect(chars.details).toEqual({ indexChar: 'a' });
    const order = await caught(() => open(frags, 'dak21937'), 'WRONG_SEQUENCE_KEY');
    expect(order.details).toEqual({ indexChar: 'a' });
  });
});

describe('merge errors: authentic fragments chained wrongly (crafted with sealFrame)', () => {
  it('re-sealing a frame unchanged reproduces the fragment byte for byte', async () => {
    for (let i = 0; i < 8; i++) expect(toHex(await craft(i, {}))).toBe(toHex(frags[i]!));
  });

  it('position 2 pointing back to position 0 is CHAIN_LOOP', async () => {
    const error = await caught(async () => open(replaced(2, await craft(2, { nextChar: 'a' }))), 'CHAIN_LOOP');
    expect(error.details).toEqual({ from: 'k', to: 'a' });
  });

  it('a fragment pointing to itself is CHAIN_LOOP', async () => {
    const error = await caught(async () => open(replaced(2, await craft(2, { nextChar: 'k' }))), 'CHAIN_LOOP');
    expect(error.details).toEqual({ from: 'k', to: 'k' });
  });

  it('position 1 pointing to position 3 is CHAIN_BROKEN', async () => {
    const error = await caught(async () => open(replaced(1, await craft(1, { nextChar: '2' }))), 'CHAIN_BROKEN');
    expect(error.details).toEqual({ from: 'd', to: '2' });
  });

  it('two fragments claiming one position, or different n, are CHAIN_BROKEN', async () => {
    let error = await caught(async () => open(replaced(2, await craft(2, { position: 1 }))), 'CHAIN_BROKEN');
    expect(error.details).toEqual({ indexChars: ['d', 'k'] });
    error = await caught(async () => open(replaced(2, await craft(2, { n: 9 }))), 'CHAIN_BROKEN');
    expect(error.details).toEqual({ indexChars: ['a', 'k'] });
  });

  it('an authentic link to a character outside the key is WRONG_SEQUENCE_KEY', async () => {
    await caught(async () => open(replaced(2, await craft(2, { nextChar: 'Z' }))), 'WRONG_SEQUENCE_KEY');
  });
});

describe('damaged fragments', () => {
  const expectNames = (details: Readonly<Record<string, unknown>>, source: number) => {
    const sources = (details.sources as number[] | undefined) ?? [details.source];
    expect(sources).toContain(source);
  };

  it('a fragment cut short anywhere is FRAGMENT_TRUNCATED (or MALFORMED when not even its index character is left)', async () => {
    const target = frags[3]!;
    for (let keep = 0; keep < target.length; keep++) {
      const expected: ErrorCode = keep === 0 ? 'FRAGMENT_MALFORMED' : 'FRAGMENT_TRUNCATED';
      const error = await caught(() => open(replaced(3, target.subarray(0, keep))), expected);
      expect(error.details.source).toBe(3);
      if (keep > 0) expect(error.details.indexChar).toBe('2');
    }
    await caught(() => open(replaced(3, target.subarray(0, 10))), 'FRAGMENT_TRUNCATED');
  });

  it('cutting a 4-byte index character is MALFORMED at the front and TRUNCATED at the end', async () => {
    const emoji = await protectRecord([pseudoRandomBytes(30)], fileMetadata(30), '😀😁😂🤣😃😄😅😆', { chunkSize: C });
    const all = emoji.fragments.map((f) => f.bytes);
    const target = all[2]!;
    for (let keep = 0; keep < target.length; keep++) {
      const expected: ErrorCode = keep < 4 ? 'FRAGMENT_MALFORMED' : 'FRAGMENT_TRUNCATED';
      await caught(() => openRecord(all.map((f, i) => (i === 2 ? target.subarray(0, keep) : f)), emoji.sequenceKey, emoji.recordKey), expected);
    }
  });

  it('a fragment with bytes appended is FRAGMENT_MALFORMED; an empty one too', async () => {
    for (const extra of [[0], [0x61], [0xc3, 0xa9], [1, 2, 3], [1, 2, 3, 4, 5]]) {
      const error = await caught(() => open(replaced(3, concatBytes([frags[3]!, Uint8Array.from(extra)]))), 'FRAGMENT_MALFORMED');
      expect(error.details).toMatchObject({ source: 3, indexChar: '2' });
    }
    const error = await caught(() => open(replaced(3, new Uint8Array(0))), 'FRAGMENT_MALFORMED');
    expect(error.details).toEqual({ source: 3 });
  });

  it('every bit flip in a fragment frame is rejected with a typed error naming that fragment', async () => {
    const target = frags[3]!;
    // Offsets within "2" ‖ version ‖ flags ‖ n ‖ position ‖ payload length ‖ record tag ‖ header MAC, then the suffix.
    const allowed = (byte: number): ErrorCode[] => {
      if (byte === 0) return ['FRAGMENT_FOREIGN', 'FRAGMENT_MALFORMED'];
      if (byte <= 2) return ['FRAGMENT_UNSUPPORTED'];
      if (byte <= 6) return ['FRAGMENT_TAMPERED', 'FRAGMENT_MALFORMED'];
      if (byte <= 14) return ['FRAGMENT_MALFORMED', 'FRAGMENT_TRUNCATED'];
      if (byte <= 30) return ['FRAGMENT_FOREIGN'];
      if (byte <= 46) return ['FRAGMENT_TAMPERED'];
      return ['FRAGMENT_TAMPERED', 'FRAGMENT_MALFORMED', 'FRAGMENT_TRUNCATED']; // the suffix
    };
    const frameBytes = [...Array.from({ length: 1 + FIXED }, (_, i) => i), target.length - 1];
    for (const byte of frameBytes) {
      for (let bit = 0; bit < 8; bit++) {
        const error = await caught(() => open(replaced(3, flipBit(target, byte * 8 + bit))));
        expect(allowed(byte === target.length - 1 ? 47 : byte)).toContain(error.code);
        expectNames(error.details, 3);
      }
    }
  });

  it('a bit flip in a payload is FRAGMENT_TAMPERED naming that fragment', async () => {
    // Every byte of the first payload's envelope header, then every 5th byte of every payload.
    for (let i = 0; i < 8; i++) {
      const parsed = parseFragment(frags[i]!);
      for (let offset = 0; offset < parsed.payloadLength; offset += i === 0 && offset < HEADER_LENGTH ? 1 : 5) {
        const bit = (parsed.payloadOffset + offset) * 8 + (offset % 8);
        const error = await caught(() => open(replaced(i, flipBit(frags[i]!, bit))), 'FRAGMENT_TAMPERED');
        expect(error.details.indexChars).toContain(CHARS[i]);
        expect(['ENVELOPE_TAMPERED', 'ENVELOPE_MALFORMED', 'ENVELOPE_UNSUPPORTED', 'WRONG_RECORD_KEY']).toContain(error.details.envelopeError);
      }
    }
  });

  it("a flipped version/algorithm/flags byte inside the first payload names fragment 'a', not 'update EHR Vault'", async () => {
    const parsed = parseFragment(frags[0]!);
    for (let byte = 4; byte < 8; byte++) {
      const error = await caught(() => open(replaced(0, flipBit(frags[0]!, (parsed.payloadOffset + byte) * 8))), 'FRAGMENT_TAMPERED');
      expect(error.details).toEqual({ indexChars: ['a'], envelopeError: 'ENVELOPE_UNSUPPORTED' });
      expect((error.cause as { code?: string }).code).toBe('ENVELOPE_UNSUPPORTED');
    }
  });

  it('swapping the payloads of two fragments (frames kept) is FRAGMENT_TAMPERED', async () => {
    const p2 = payloadOf(frags[2]!);
    const p3 = payloadOf(frags[3]!);
    expect(p2.length).toBe(p3.length);
    const swapped = frags.slice();
    swapped[2] = await craft(2, {}, p3);
    swapped[3] = await craft(3, {}, p2);
    const error = await caught(() => open(swapped), 'FRAGMENT_TAMPERED');
    expect(error.details.indexChars).toContain('k');
  });

  // Regression (fixed in 35dda08): errors from the 40-byte envelope header carry no
  // offset, and blame used to fall back to bytes [0, 1), always naming key[0]. With a long key and a small
  // record the header spans several fragments (64 fragments of ~5 bytes here). FORMAT.md §7 step 7.
  it('damage to envelope header bytes held by a later fragment names that fragment', async () => {
    const longKey = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#';
    const small = await protectRecord([], fileMetadata(0), longKey, { chunkSize: C });
    const all = small.fragments.map((f) => f.bytes);
    const parsed = all.map((f) => parseFragment(f));
    const misnamed: string[] = [];
    for (let envelopeByte = 0; envelopeByte < HEADER_LENGTH; envelopeByte++) {
      let start = 0;
      const holder = parsed.findIndex((p) => {
        const hit = envelopeByte < start + p.payloadLength;
        start += hit ? 0 : p.payloadLength;
        return hit;
      });
      const p = parsed[holder]!;
      const spoiled = all.map((f, i) => (i === holder ? flipBit(f, (p.payloadOffset + envelopeByte - start) * 8) : f));
      const error = await caught(() => openRecord(spoiled, longKey, small.recordKey), 'FRAGMENT_TAMPERED');
      const named = error.details.indexChars as string[];
      if (!named.includes(p.indexChar)) misnamed.push(`envelope byte ${envelopeByte} is in '${p.indexChar}' but ${JSON.stringify(named)} was named`);
    }
    expect(misnamed).toEqual([]);
  });

  // BUG (src/core/record.ts, blameFragments): METADATA_INVALID is raised only after the metadata segment
  // decrypted and authenticated, so it is never damage: it means a writer this reader does not understand
  // (FORMAT.md §3: "New pixel formats ... live inside the encrypted metadata"). blameFragments still turns it
  // into FRAGMENT_TAMPERED ("altered or damaged, download again"), naming the header fragment(s), which
  // sends the user to re-download a record that is intact. FORMAT.md §7 step 7 blames *decryption* failures only.
  // Suggested fix: drop 'METADATA_INVALID' from the `blamed` list in blameFragments.
  it('authentic but unreadable metadata is reported as METADATA_INVALID, not as a tampered fragment', async () => {
    const json = JSON.stringify({ kind: 'image', name: 'scan', mime: '', byteLength: 3, image: { width: 1, height: 1, pixelFormat: 'RGB8' } });
    const envelope = await buildEnvelopeFromSpec(keys, json, pseudoRandomBytes(3), C, Uint8Array.of(1, 2, 3, 4, 5, 6, 7));
    const split = await splitEnvelope(keys, parseSequenceKey(KEY), envelope);
    await caught(() => open(split.map((f) => f.bytes)), 'METADATA_INVALID');
  });
});
