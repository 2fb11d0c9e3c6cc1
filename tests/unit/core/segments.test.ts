import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeOpener, EnvelopeSealer, HEADER_LENGTH, TAG_LENGTH, bodySegments, concatBytes, openBodySegment, parseEnvelopeHeader, sealBodySegment, toHex } from '../../../src/core/index.js';
import { caught, fileMetadata, flipBit, freshKeys, pseudoRandomBytes, sealToBytes } from './helpers.js';

const fixedPrefix = (n: number) => new Uint8Array(n).fill(7);

/** Seals `body` as parallel segments would: segments in reverse order, to prove order does not matter. */
async function sealBySegments(body: Uint8Array, chunkSize: number, perSegment: number) {
  const { keys } = await freshKeys();
  const metadata = fileMetadata(body.length);
  const sealer = await EnvelopeSealer.create(keys, metadata, { chunkSize, randomBytes: fixedPrefix });
  const segments = sealer.claimSegments(perSegment);
  const sealed = new Map<number, Uint8Array>();
  for (const s of [...segments].reverse()) {
    sealed.set(s.index, concatBytes(await sealBodySegment(keys.encryption, sealer.segmentContext, s, body.subarray(s.plainStart, s.plainEnd), 3)));
  }
  const envelope = concatBytes([sealer.head, ...segments.map((s) => sealed.get(s.index)!)]);
  return { keys, metadata, sealer, segments, envelope };
}

describe('body segments (parallel sealing and opening, FORMAT.md §5.1)', () => {
  it('segments sealed in any order give the same bytes as the sequential stream', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 64, max: 700 }), fc.integer({ min: 1, max: 5 }), async (length, chunkSize, perSegment) => {
        const body = pseudoRandomBytes(length, length + 1);
        const { keys, metadata, envelope, segments } = await sealBySegments(body, chunkSize, perSegment);
        const sequential = await sealToBytes(keys, metadata, [body], { chunkSize, randomBytes: fixedPrefix });
        expect(toHex(envelope)).toBe(toHex(sequential));
        expect(segments.at(-1)!.cipherEnd).toBe(envelope.length);
        // Segments tile the body with no gap or overlap.
        segments.forEach((s, i) => expect(s.cipherStart).toBe(i === 0 ? HEADER_LENGTH + parseEnvelopeHeader(envelope).metadataLength : segments[i - 1]!.cipherEnd));
      }),
      { numRuns: 60 },
    );
  });

  it('opens segment by segment back to the body', async () => {
    const body = pseudoRandomBytes(10_000, 3);
    const { keys, envelope } = await sealBySegments(body, 1000, 3);
    const opener = await EnvelopeOpener.create(keys, envelope.subarray(0, HEADER_LENGTH));
    const metadata = await opener.openMetadata(envelope.subarray(HEADER_LENGTH, HEADER_LENGTH + opener.header.metadataLength));
    const context = { headerBytes: opener.header.bytes, byteLength: metadata.byteLength };
    const parts = [];
    for (const s of bodySegments(opener.header, metadata.byteLength, 4)) parts.push(...(await openBodySegment(keys.encryption, context, s, envelope.subarray(s.cipherStart, s.cipherEnd))));
    expect(toHex(concatBytes(parts))).toBe(toHex(body));
  });

  it('a damaged chunk is ENVELOPE_TAMPERED at its offset; with two, the first in stream order is reported', async () => {
    const body = pseudoRandomBytes(8_000, 4);
    const { keys, envelope } = await sealBySegments(body, 1000, 8);
    const header = parseEnvelopeHeader(envelope);
    const [segment] = bodySegments(header, body.length, 8);
    const context = { headerBytes: header.bytes, byteLength: body.length };
    const stride = 1000 + TAG_LENGTH;
    // Chunk 6 fails fast (damaged near its start), chunk 2 later: still chunk 2 is reported.
    let damaged = flipBit(envelope, (segment!.cipherStart + 6 * stride) * 8);
    damaged = flipBit(damaged, (segment!.cipherStart + 2 * stride + 900) * 8);
    const error = await caught(() => openBodySegment(keys.encryption, context, segment!, damaged.subarray(segment!.cipherStart, segment!.cipherEnd), 8), 'ENVELOPE_TAMPERED');
    expect(error.details).toMatchObject({ chunk: 2, offset: segment!.cipherStart + 2 * stride, length: stride });
  });

  it('a short segment is ENVELOPE_TRUNCATED; a segment that is not the record’s is refused', async () => {
    const body = pseudoRandomBytes(3_000, 5);
    const { keys, envelope, segments, sealer } = await sealBySegments(body, 1000, 2);
    const context = sealer.segmentContext;
    const [first] = segments;
    await caught(() => openBodySegment(keys.encryption, context, first!, envelope.subarray(first!.cipherStart, first!.cipherEnd - 1)), 'ENVELOPE_TRUNCATED');
    await caught(() => openBodySegment(keys.encryption, context, { ...first!, cipherEnd: first!.cipherEnd + 1 }, envelope.subarray(first!.cipherStart, first!.cipherEnd)), 'INPUT_INVALID');
    await caught(() => sealBodySegment(keys.encryption, context, { ...first!, firstChunk: 5 }, body.subarray(0, 2000)), 'INPUT_INVALID');
    await caught(() => sealBodySegment(keys.encryption, context, first!, body.subarray(0, 1999)), 'SOURCE_LENGTH_MISMATCH');
  });

  it('a sealer hands its counters out once: no sealing one by one after claiming segments, or the reverse', async () => {
    const { keys } = await freshKeys();
    const claimed = await EnvelopeSealer.create(keys, fileMetadata(3000), { chunkSize: 1000 });
    claimed.claimSegments(2);
    await caught(() => claimed.sealNext(new Uint8Array(1000)), 'INPUT_INVALID');
    expect(() => claimed.claimSegments(2)).toThrow();
    const sequential = await EnvelopeSealer.create(keys, fileMetadata(3000), { chunkSize: 1000 });
    await sequential.sealNext(new Uint8Array(1000));
    expect(() => sequential.claimSegments(2)).toThrow();
  });
});
