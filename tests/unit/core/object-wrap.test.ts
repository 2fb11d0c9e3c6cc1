/** The object seal (FORMAT.md §4.2) split into several AES-CTR calls gives the bytes of one keystream. */
import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WRAP_CALL_BYTES, wrapAt, wrapEnvelopePieces, wrapEnvelopeRange } from '../../../src/core/object-wrap.js';
import { concatBytes } from '../../../src/core/bytes.js';
import { pseudoRandomBytes } from './helpers.js';

/** Length and SHA-256: compared instead of the bytes (toEqual walks megabytes element by element). */
function fingerprint(bytes: Uint8Array): string {
  return `${bytes.length}:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** §4.2 from node:crypto: the keystream of `slot` from byte 0, applied to bytes [offset, offset + length). */
function reference(raw: Uint8Array, slot: number, offset: number, bytes: Uint8Array): Uint8Array {
  const counter = new Uint8Array(16);
  counter[0] = slot >> 8;
  counter[1] = slot & 0xff;
  const cipher = createCipheriv('aes-128-ctr', raw, counter);
  cipher.update(new Uint8Array(offset));
  return new Uint8Array(cipher.update(bytes));
}

describe('wrapAt (FORMAT.md §4.2)', () => {
  it('long ranges at any offset equal one keystream, across the call boundaries', async () => {
    const raw = pseudoRandomBytes(16, 11);
    const key = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-CTR', false, ['encrypt']);
    for (const [offset, length] of [[0, WRAP_CALL_BYTES * 2 + 5], [7, WRAP_CALL_BYTES], [7, WRAP_CALL_BYTES + 1], [4096 + 9, 3 * WRAP_CALL_BYTES + 33], [15, 40]] as const) {
      const bytes = pseudoRandomBytes(length, offset + length);
      expect(fingerprint(await wrapAt(key, 300, offset, bytes)), `offset ${offset}, length ${length}`).toBe(fingerprint(reference(raw, 300, offset, bytes)));
    }
  });

  it("an envelope range over two payloads, longer than one call, is each object's keystream at its body offset", async () => {
    const raw = pseudoRandomBytes(16, 12);
    const key = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-CTR', false, ['encrypt']);
    const placements = [
      { payloadStart: 0, payloadEnd: 700_001, prefixLength: 13 },
      { payloadStart: 700_001, payloadEnd: 2_000_000, prefixLength: 9 },
    ];
    const from = 3;
    const bytes = pseudoRandomBytes(1_900_000, 5);
    const expected = new Uint8Array(bytes.length);
    expected.set(reference(raw, 0, 13 + from, bytes.subarray(0, 700_001 - from)), 0);
    expected.set(reference(raw, 1, 9, bytes.subarray(700_001 - from)), 700_001 - from);
    expect(fingerprint(await wrapEnvelopeRange(key, placements, from, bytes))).toBe(fingerprint(expected));
    // As pieces: the same bytes in order, each call after an object's first piece on a keystream block.
    const pieces = await wrapEnvelopePieces(key, placements, from, bytes);
    expect(fingerprint(concatBytes(pieces))).toBe(fingerprint(expected));
    expect(pieces.length).toBeGreaterThan(2);
  });
});
