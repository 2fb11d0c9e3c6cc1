import { HEAD_LENGTH as HEAD } from '../../src/core/object-head.js';
import { ID_B, POSITIVE_CASES } from './vector-cases.js';
import { setU16, type CraftSeams } from './craft.js';

/**
 * How each negative vector is made from a positive one: `spoil` changes the reader's inputs (objects,
 * keys), `craft` writes the record again with a seam (an authentic but wrong writer). `expect` is the
 * code FORMAT.md §9 prescribes; the blamed sources/characters are what the reader must name.
 */
export interface NegativeCase {
  readonly id: string;
  readonly description: string;
  readonly from: string;
  readonly expect: string;
  readonly spoil?: (objects: Uint8Array[], other: (id: string) => Uint8Array[]) => Uint8Array[];
  readonly craft?: CraftSeams;
  readonly sequenceKey?: string;
  readonly recordKey?: string;
  readonly recordId?: string;
}

const flip = (objects: Uint8Array[], index: number, at: (o: Uint8Array) => number): Uint8Array[] => {
  const out = objects.map((o) => o.slice());
  out[index]![at(out[index]!)]! ^= 0x01;
  return out;
};

export const NEGATIVE_CASES: readonly NegativeCase[] = [
  { id: 'error-no-objects', from: 'file-text', expect: 'FRAGMENT_MISSING', description: 'No objects at all (step 2): every character is missing.', spoil: () => [] },
  { id: 'error-sequence-key-invalid', from: 'file-text', expect: 'SEQUENCE_KEY_INVALID', description: 'The paper\'s "Adk 1234" (a space) is rejected before anything is read (step 1).', sequenceKey: 'Adk 1234' },
  { id: 'error-object-shorter-than-head', from: 'file-text', expect: 'FRAGMENT_TRUNCATED', description: 'Object #3 cut to 50 bytes, shorter than a head (step 3).', spoil: (o) => o.map((x, i) => (i === 2 ? x.slice(0, 50) : x)) },
  { id: 'error-object-cut-short', from: 'file-text', expect: 'FRAGMENT_TRUNCATED', description: 'Object #6 lacks its last byte (step 7).', spoil: (o) => o.map((x, i) => (i === 5 ? x.slice(0, -1) : x)) },
  { id: 'error-object-trailing-byte', from: 'file-text', expect: 'FRAGMENT_MALFORMED', description: 'Object #2 has one byte more than 92 + B (step 7).', spoil: (o) => o.map((x, i) => (i === 1 ? Uint8Array.of(...x, 0) : x)) },
  { id: 'error-wrong-record-key', from: 'file-text', expect: 'WRONG_RECORD_KEY', description: 'Another record key: no head opens (step 4).', recordKey: 'f0e1d2c3b4a5968778695a4b3c2d1e0f' },
  { id: 'error-wrong-record-id', from: 'file-text', expect: 'WRONG_RECORD_KEY', description: 'The right key with another record id: the heads\' AAD differs, no head opens (step 4).', recordId: ID_B },
  {
    id: 'error-foreign-object',
    from: 'file-text',
    expect: 'FRAGMENT_FOREIGN',
    description: 'Object #5 replaced by an object of another record (step 4).',
    spoil: (o, other) => o.map((x, i) => (i === 4 ? other('file-exact-chunks-12-fragments')[4]! : x)),
  },
  { id: 'error-head-damaged', from: 'file-text', expect: 'FRAGMENT_FOREIGN', description: 'One bit of object #7\'s head flipped: indistinguishable from a foreign object (step 4).', spoil: (o) => flip(o, 6, () => 30) },
  { id: 'error-duplicate-object', from: 'file-text', expect: 'FRAGMENT_DUPLICATE', description: 'Object #4 given twice (step 8).', spoil: (o) => [...o, o[3]!.slice()] },
  { id: 'error-missing-object', from: 'file-text', expect: 'FRAGMENT_MISSING', description: 'Object #4 (the fragment of \'2\') left out (step 10).', spoil: (o) => o.filter((_, i) => i !== 3) },
  {
    id: 'error-parity-three-removed',
    from: 'parity-file-text-p2',
    expect: 'FRAGMENT_MISSING',
    description: "parity-file-text-p2 without data objects #1, #4 and #8 ('a', '2', '7'): 7 of the 10 objects remain, 8 are needed to re-create the missing ones (§9 step 10).",
    spoil: (o) => o.filter((_, i) => i !== 0 && i !== 3 && i !== 7),
  },
  { id: 'error-wrong-sequence-key-order', from: 'file-text', expect: 'WRONG_SEQUENCE_KEY', description: 'The same characters in another order (adk21973): another key (step 9).', sequenceKey: 'adk21973' },
  { id: 'error-wrong-sequence-key-length', from: 'file-text', expect: 'WRONG_SEQUENCE_KEY', description: 'A sequence key of 9 characters for 8 objects (step 9).', sequenceKey: 'adk219378' },
  { id: 'error-frame-damaged', from: 'file-text', expect: 'FRAGMENT_TAMPERED', description: 'One bit of object #3\'s frame prefix flipped (step 11).', spoil: (o) => flip(o, 2, () => HEAD + 3) },
  { id: 'error-padding-damaged', from: 'file-text', expect: 'FRAGMENT_TAMPERED', description: 'The last (padding) byte of object #8 flipped (step 11).', spoil: (o) => flip(o, 7, (x) => x.length - 1) },
  { id: 'error-payload-damaged', from: 'file-text', expect: 'FRAGMENT_TAMPERED', description: 'One bit of object #7\'s payload flipped: body chunk 0 fails (step 15).', spoil: (o) => flip(o, 6, () => HEAD + 13 + 20) },
  { id: 'error-metadata-damaged', from: 'file-text', expect: 'FRAGMENT_TAMPERED', description: 'One bit of object #5\'s payload flipped: the metadata segment fails (step 14).', spoil: (o) => flip(o, 4, () => HEAD + 13 + 20) },
  { id: 'error-header-commitment-damaged', from: 'file-text', expect: 'FRAGMENT_TAMPERED', description: 'One bit of the envelope\'s key commitment (inside object #1\'s payload) flipped (step 13).', spoil: (o) => flip(o, 0, () => HEAD + 13 + 30) },
  { id: 'error-head-version', from: 'file-text', expect: 'FRAGMENT_UNSUPPORTED', description: 'An authentic head of object version 3 (step 5).', craft: { head: { slot: 5, change: (h) => (h.version = 3) } } },
  {
    id: 'error-other-batch-salt',
    from: 'file-text',
    expect: 'WRONG_SEQUENCE_KEY',
    description: 'Authentic heads naming another protect batch\'s Argon2id salt: X, and so every key of §3, differ, and the sequence check fails (step 9).',
    craft: { head: { slot: 'all', change: (h) => (h.kdfSalt = Uint8Array.from({ length: 16 }, (_, i) => 0xb0 + i)) } },
  },
  {
    id: 'error-mixed-batch-salts',
    from: 'file-text',
    expect: 'CHAIN_BROKEN',
    description: 'One authentic head names another batch\'s Argon2id salt: the heads disagree (step 8).',
    craft: { head: { slot: 3, change: (h) => (h.kdfSalt = Uint8Array.from({ length: 16 }, (_, i) => 0xb0 + i)) } },
  },
  { id: 'error-head-out-of-range', from: 'file-text', expect: 'FRAGMENT_MALFORMED', description: 'An authentic head with Argon2id memory 4 KiB, below the reader\'s range (step 6).', craft: { head: { slot: 2, change: (h) => (h.kdf = { ...h.kdf, memoryKiB: 4 }) } } },
  { id: 'error-different-protections', from: 'file-text', expect: 'CHAIN_BROKEN', description: 'Object #7\'s authentic head names another check value: objects of different protections (step 8).', craft: { head: { slot: 6, change: (h) => (h.check = new Uint8Array(16)) } } },
  { id: 'error-chain-jump', from: 'file-text', expect: 'CHAIN_BROKEN', description: 'An authentic frame at position 2 (k) whose next character is \'9\' instead of \'2\' (step 12).', craft: { frame: { slot: 2, change: (f) => (f.nextChar = '9') } } },
  { id: 'error-chain-loop', from: 'file-text', expect: 'CHAIN_LOOP', description: 'An authentic frame at position 4 (1) whose next character points back to \'d\' (step 12).', craft: { frame: { slot: 4, change: (f) => (f.nextChar = 'd') } } },
  { id: 'error-chain-loop-last', from: 'file-text', expect: 'CHAIN_LOOP', description: 'An authentic last frame (7) whose next character is \'d\' instead of closing the ring at \'a\' (step 12).', craft: { frame: { slot: 7, change: (f) => (f.nextChar = 'd') } } },
  { id: 'error-frame-own-character', from: 'file-text', expect: 'CHAIN_BROKEN', description: 'An authentic frame in slot 2 whose own character is \'x\' instead of \'k\' (step 12).', craft: { frame: { slot: 2, change: (f) => (f.indexChar = 'x') } } },
  { id: 'error-frame-wrong-place', from: 'file-text', expect: 'CHAIN_BROKEN', description: 'An authentic frame in slot 3 that says position 4 (step 12).', craft: { frame: { slot: 3, change: (f) => (f.position = 4) } } },
  { id: 'error-envelope-magic', from: 'file-text', expect: 'ENVELOPE_MALFORMED', description: 'An authentic envelope header with magic "EHRX" (step 13).', craft: { header: (h) => (h[3] = 0x58) } },
  { id: 'error-envelope-version', from: 'file-text', expect: 'ENVELOPE_UNSUPPORTED', description: 'An authentic envelope header of version 3 (step 13).', craft: { header: (h) => (h[4] = 3) } },
  { id: 'error-envelope-flags', from: 'file-text', expect: 'ENVELOPE_UNSUPPORTED', description: 'An authentic envelope header with flags 00 01 (step 13).', craft: { header: (h) => setU16(h, 6, 1) } },
  { id: 'error-envelope-truncated', from: 'file-text', expect: 'ENVELOPE_TRUNCATED', description: 'The envelope lacks its last 16 bytes (the last tag) but is padded and split correctly (step 14).', craft: { envelopeDelta: -16 } },
  { id: 'error-envelope-trailing-data', from: 'file-text', expect: 'ENVELOPE_TRAILING_DATA', description: '16 zero bytes after the last chunk, padded and split correctly (step 14).', craft: { envelopeDelta: 16 } },
  { id: 'error-padding-not-canonical', from: 'file-text', expect: 'ENVELOPE_MALFORMED', description: 'Objects one byte longer than the canonical B (step 14).', craft: { bodyLengthDelta: 1 } },
  {
    id: 'error-metadata-file-encoding',
    from: 'file-text',
    expect: 'METADATA_INVALID',
    description: 'Authentic metadata of a file record with bodyEncoding deflate-raw but no contentLength, which a compressed file must have (step 14).',
    craft: { metadataJson: '{"kind":"file","name":"x.txt","mime":"text/plain","byteLength":78,"bodyEncoding":"deflate-raw"}' },
  },
  {
    id: 'error-metadata-webp-16-bit',
    from: 'image-webp-gray8',
    expect: 'METADATA_INVALID',
    description: 'Authentic metadata of a GRAY16 image with bodyEncoding webp-lossless, which takes only GRAY8, RGB8 and RGBA8 (§6, §6.4; step 14).',
    craft: { metadataJson: '{"kind":"image","name":"xray.png","mime":"image/png","byteLength":50,"image":{"width":6,"height":4,"pixelFormat":"GRAY16"},"bodyEncoding":"webp-lossless"}' },
  },
  {
    id: 'error-metadata-invalid',
    from: 'file-text',
    expect: 'METADATA_INVALID',
    description: 'Authentic metadata with a negative byteLength (step 14).',
    craft: { metadataJson: '{"kind":"file","name":"x.txt","mime":"text/plain","byteLength":-1}' },
  },
];

export const POSITIVE_IDS = POSITIVE_CASES.map((c) => c.id);
