import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteQueue,
  METADATA_BLOCK_QUANTUM,
  concatBytes,
  constantTimeEqual,
  decodeMetadataBlock,
  encodeMetadataBlock,
  fromBase64Url,
  fromHex,
  readU64,
  toBase64Url,
  toHex,
  writeU32,
  writeU64,
  type RecordMetadata,
} from '../../../src/core/index.js';
import { caughtSync, utf8 } from './helpers.js';

describe('byte helpers', () => {
  it('base64url matches Node for every byte string and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(toHex(fromBase64Url(text))).toBe(toHex(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('base64url decoding is strict: other alphabets, dangling characters and non-zero unused bits are rejected', () => {
    expect(() => fromBase64Url('ab+/')).toThrow(TypeError);
    expect(() => fromBase64Url('abc=')).toThrow(TypeError);
    expect(() => fromBase64Url('abcde')).toThrow(TypeError);
    expect(toHex(fromBase64Url('AA'))).toBe('00');
    expect(() => fromBase64Url('AB')).toThrow(TypeError); // 'B' sets an unused bit
    expect(() => fromBase64Url('AAB')).toThrow(TypeError);
  });

  it('hex round-trips and rejects odd or non-hex input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(toHex(fromHex(toHex(bytes)))).toBe(toHex(bytes));
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'));
      }),
      { numRuns: 100 },
    );
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
  });

  it('u64 fields hold every safe integer and read anything at or above 2^53 as NaN', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        const bytes = new Uint8Array(8);
        writeU64(bytes, 0, value);
        expect(readU64(bytes, 0)).toBe(value);
        expect(Buffer.from(bytes).readBigUInt64BE(0)).toBe(BigInt(value));
      }),
      { numRuns: 200 },
    );
    const big = new Uint8Array(8);
    writeU32(big, 0, 2 ** 21);
    expect(readU64(big, 0)).toBeNaN();
  });

  it('constantTimeEqual compares contents and lengths', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

describe('ByteQueue', () => {
  it('re-cuts any pieces into any sizes without losing or reordering a byte', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 20 }),
        (pieces, sizes) => {
          const queue = new ByteQueue();
          for (const piece of pieces) queue.push(piece);
          const all = concatBytes(pieces);
          expect(queue.length).toBe(all.length);
          const out: Uint8Array[] = [];
          let at = 0;
          for (const size of sizes) {
            const taken = queue.take(size);
            if (size > all.length - at) {
              expect(taken).toBeUndefined();
              continue;
            }
            expect(taken).toHaveLength(size);
            out.push(taken!.slice());
            at += size;
            expect(queue.length).toBe(all.length - at);
          }
          expect(toHex(concatBytes(out))).toBe(toHex(all.subarray(0, at)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('metadata block', () => {
  const metadata: RecordMetadata = { kind: 'file', name: 'Befund 中文 😀.pdf', mime: 'application/pdf', byteLength: 1234, createdAt: 1_700_000_000_000 };

  it('is length-prefixed JSON padded with zeros to a multiple of 256 bytes, and decodes back', () => {
    const block = encodeMetadataBlock(metadata);
    expect(block.length % METADATA_BLOCK_QUANTUM).toBe(0);
    expect(decodeMetadataBlock(block)).toEqual(metadata);
    const long = encodeMetadataBlock({ ...metadata, name: 'n'.repeat(600) });
    expect(long.length).toBe(768);
    expect(decodeMetadataBlock(long).name).toBe('n'.repeat(600));
  });

  it('rejects non-zero padding, a length beyond the block, a bad size and non-JSON with METADATA_INVALID', () => {
    const block = encodeMetadataBlock(metadata);
    const padded = block.slice();
    padded[block.length - 1] = 1;
    const beyond = block.slice();
    writeU32(beyond, 0, block.length);
    const notJson = new Uint8Array(256);
    const json = utf8('{"kind":');
    writeU32(notJson, 0, json.length);
    notJson.set(json, 4);
    for (const bad of [padded, beyond, block.subarray(0, 255), notJson]) {
      caughtSync(() => decodeMetadataBlock(bad), 'METADATA_INVALID');
    }
  });
});
