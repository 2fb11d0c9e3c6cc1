import { deriveRecordKeys, encodeKeyText, fragmentObjectName, fromHex, parseFragment, protectRecord, toHex } from '../../src/core/index.js';
import type { VectorCase } from './vector-cases.js';

export interface VectorFile {
  readonly description: string;
  readonly recordKey: string;
  readonly noncePrefix: string;
  readonly chunkSize: number;
  readonly sequenceKey: string;
  readonly mergeWith?: string;
  readonly metadata: VectorCase['metadata'];
  readonly plaintext: string;
  readonly keyText: string;
  readonly recordId: string;
  readonly objectNames: readonly string[];
  readonly envelope: string;
  readonly fragments: readonly { readonly indexChar: string; readonly bytes: string }[];
  readonly expect: 'ok' | { readonly error: string };
}

/** Bytes 00 01 … 0f as a record id. */
export const VECTOR_RECORD_ID = 'AAECAwQFBgcICQoLDA0ODw';

/** Runs the implementation with the vector's fixed key and nonce prefix (the test-only randomness seam). */
export async function buildVector(c: VectorCase): Promise<VectorFile> {
  const prefix = fromHex(c.noncePrefix);
  const made = await protectRecord([c.plaintext], c.metadata, c.sequenceKey, {
    recordKey: fromHex(c.recordKey),
    chunkSize: c.chunkSize,
    randomBytes: (n) => {
      if (n !== prefix.length) throw new Error('the vector seam only supplies the nonce prefix');
      return prefix.slice();
    },
  });
  const envelope: Uint8Array[] = [];
  let fragments: Frag[] = made.fragments.map((f) => ({ indexChar: f.indexChar, bytes: f.bytes.slice() }));
  for (const f of fragments) {
    const p = parseFragment(f.bytes);
    envelope.push(f.bytes.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength));
  }
  if (c.spoil) fragments = spoil(fragments, c.spoil);
  return {
    description: c.description,
    recordKey: c.recordKey,
    noncePrefix: c.noncePrefix,
    chunkSize: c.chunkSize,
    sequenceKey: c.sequenceKey,
    ...(c.mergeWith ? { mergeWith: c.mergeWith } : {}),
    metadata: c.metadata,
    plaintext: toHex(c.plaintext),
    keyText: encodeKeyText(fromHex(c.recordKey)),
    recordId: VECTOR_RECORD_ID,
    objectNames: await Promise.all(made.fragments.map(async (_, i) => fragmentObjectName(await deriveRecordKeys(fromHex(c.recordKey)), VECTOR_RECORD_ID, i))),
    envelope: envelope.map(toHex).join(''),
    fragments: fragments.map((f) => ({ indexChar: f.indexChar, bytes: toHex(f.bytes) })),
    expect: c.expectError ? { error: c.expectError } : 'ok',
  };
}

type Frag = { indexChar: string; bytes: Uint8Array };

function spoil(fragments: Frag[], how: NonNullable<VectorCase['spoil']>): Frag[] {
  const at = fragments[how.position]!;
  switch (how.how) {
    case 'drop':
      return fragments.filter((_, i) => i !== how.position);
    case 'duplicate':
      return [...fragments, { indexChar: at.indexChar, bytes: at.bytes.slice() }];
    case 'flip-payload-bit': {
      const p = parseFragment(at.bytes);
      at.bytes[p.payloadOffset + Math.floor(p.payloadLength / 2)]! ^= 0x01;
      return fragments;
    }
    case 'swap-payloads': {
      const other = fragments[how.other!]!;
      const pa = parseFragment(at.bytes);
      const pb = parseFragment(other.bytes);
      const n = Math.min(pa.payloadLength, pb.payloadLength);
      const a = at.bytes.slice(pa.payloadOffset, pa.payloadOffset + n);
      at.bytes.set(other.bytes.subarray(pb.payloadOffset, pb.payloadOffset + n), pa.payloadOffset);
      other.bytes.set(a, pb.payloadOffset);
      return fragments;
    }
  }
}
