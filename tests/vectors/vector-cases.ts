import type { RecordMetadata } from '../../src/core/index.js';

/** The inputs of each committed vector; `generate.ts` turns them into tests/vectors/*.json. */
export interface VectorCase {
  readonly id: string;
  readonly description: string;
  readonly recordKey: string;
  readonly noncePrefix: string;
  readonly chunkSize: number;
  readonly sequenceKey: string;
  readonly metadata: RecordMetadata;
  readonly plaintext: Uint8Array;
  /** Negative vectors: how to spoil the fragments, and the error a reader must give. */
  readonly spoil?: { readonly how: 'drop' | 'flip-payload-bit' | 'swap-payloads' | 'duplicate'; readonly position: number; readonly other?: number };
  readonly mergeWith?: string;
  readonly expectError?: string;
}

const text = (s: string) => new TextEncoder().encode(s);
const counting = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

const KEY_A = '000102030405060708090a0b0c0d0e0f';
const KEY_B = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const PREFIX_A = 'a0a1a2a3a4a5a6';
const PREFIX_B = 'b0b1b2b3b4b5b6';

const note = text('Patient: example. Diagnosis: fracture of the left radius; cast for six weeks.\n');

export const VECTOR_CASES: readonly VectorCase[] = [
  {
    id: 'empty-file',
    description: 'Empty body: one empty final chunk (16-byte tag only); the paper key adk21937 gives 8 fragments.',
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'empty.txt', mime: 'text/plain', byteLength: 0 },
    plaintext: new Uint8Array(0),
  },
  {
    id: 'text-multi-chunk',
    description: 'A text record over several 64-byte chunks with a short last chunk.',
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length, createdAt: 1_764_000_000_000 },
    plaintext: note,
  },
  {
    id: 'exact-chunks',
    description: 'Body of exactly two chunks: the last chunk is full and carries the last flag; no empty chunk follows.',
    recordKey: KEY_B,
    noncePrefix: PREFIX_B,
    chunkSize: 64,
    sequenceKey: 'Qw7#zR2!xK',
    metadata: { kind: 'file', name: 'scan.dcm', mime: 'application/dicom', byteLength: 128 },
    plaintext: counting(128),
  },
  {
    id: 'image-rgba8-unicode-key',
    description: 'A 3x2 RGBA8 image record split by a key with 2-, 3- and 4-byte UTF-8 index characters.',
    recordKey: KEY_B,
    noncePrefix: PREFIX_A,
    chunkSize: 1024,
    sequenceKey: 'é中😀abcdef',
    metadata: { kind: 'image', name: 'x-ray ✓.png', mime: 'image/png', byteLength: 24, image: { width: 3, height: 2, pixelFormat: 'RGBA8' } },
    plaintext: counting(24),
  },
  {
    id: 'error-missing-fragment',
    description: "Fragment 'k' (position 2) is missing.",
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length },
    plaintext: note,
    spoil: { how: 'drop', position: 2 },
    expectError: 'FRAGMENT_MISSING',
  },
  {
    id: 'error-tampered-payload',
    description: 'One bit of the payload of fragment 5 is flipped.',
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length },
    plaintext: note,
    spoil: { how: 'flip-payload-bit', position: 5 },
    expectError: 'FRAGMENT_TAMPERED',
  },
  {
    id: 'error-swapped-payloads',
    description: 'The payloads of fragments 3 and 4 are swapped while their frames stay.',
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length },
    plaintext: note,
    spoil: { how: 'swap-payloads', position: 3, other: 4 },
    expectError: 'FRAGMENT_TAMPERED',
  },
  {
    id: 'error-duplicate-fragment',
    description: 'Fragment 1 is given twice.',
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length },
    plaintext: note,
    spoil: { how: 'duplicate', position: 1 },
    expectError: 'FRAGMENT_DUPLICATE',
  },
  {
    id: 'error-wrong-sequence-key-order',
    description: 'Merged with the same characters in another order (adk21973).',
    recordKey: KEY_A,
    noncePrefix: PREFIX_A,
    chunkSize: 64,
    sequenceKey: 'adk21937',
    metadata: { kind: 'file', name: 'discharge-note.txt', mime: 'text/plain', byteLength: note.length },
    plaintext: note,
    mergeWith: 'adk21973',
    expectError: 'WRONG_SEQUENCE_KEY',
  },
];
