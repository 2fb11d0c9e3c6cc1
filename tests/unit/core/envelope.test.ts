import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ENVELOPE_MAGIC,
  EnvelopeOpener,
  EnvelopeSealer,
  HEADER_LENGTH,
  MAX_CHUNK_SIZE,
  TAG_LENGTH,
  concatBytes,
  deriveRecordKeys,
  openStream,
  parseEnvelopeHeader,
  plannedEnvelopeLength,
  readU16,
  readU32,
  sealStream,
  toHex,
  type Progress,
  type RecordKeys,
  type RecordMetadata,
} from '../../../src/core/index.js';
import {
  asAsync,
  buildEnvelopeFromSpec,
  caught,
  caughtSync,
  collect,
  fileMetadata,
  flipBit,
  freshKeys,
  indexOfBytes,
  openToBytes,
  pseudoRandomBytes,
  sealToBytes,
  splitBySizes,
  utf8,
  type SpecHeader,
} from './helpers.js';

const C = 64;
/** Header (56) + metadata segment (256-byte block + 16-byte tag) for the short metadata used here. */
const BODY_START = HEADER_LENGTH + 256 + TAG_LENGTH;

let keys: RecordKeys;
let recordKey: Uint8Array;
let recordId: Uint8Array;
beforeAll(async () => {
  ({ keys, recordKey, recordId } = await freshKeys());
});

async function seal(body: Uint8Array, chunkSize = C, metadata: RecordMetadata = fileMetadata(body.length)): Promise<Uint8Array> {
  return sealToBytes(keys, metadata, [body], { chunkSize });
}

describe('sealStream / openStream round trip', () => {
  const edgeSizes = (c: number) => [0, 1, c - 1, c, c + 1, 3 * c];

  it('round-trips edge sizes and random sizes, whatever the piece sizes on either side', async () => {
    const scenario = fc
      .constantFrom(64, 100, 256)
      .chain((chunkSize) =>
        fc.record({
          chunkSize: fc.constant(chunkSize),
          size: fc.oneof(fc.constantFrom(...edgeSizes(chunkSize)), fc.integer({ min: 0, max: 5 * chunkSize })),
          seed: fc.integer({ min: 1, max: 2 ** 31 }),
          inPieces: fc.array(fc.integer({ min: 0, max: 2 * chunkSize }), { maxLength: 12 }),
          outPieces: fc.array(fc.integer({ min: 0, max: 3 * chunkSize }), { maxLength: 12 }),
          asyncIn: fc.boolean(),
          asyncOut: fc.boolean(),
          sealConcurrency: fc.constantFrom(undefined, 1, 2, 16),
          openConcurrency: fc.constantFrom(undefined, 1, 3, 16),
        }),
      );
    await fc.assert(
      fc.asyncProperty(scenario, async ({ chunkSize, size, seed, inPieces, outPieces, asyncIn, asyncOut, sealConcurrency, openConcurrency }) => {
        const body = pseudoRandomBytes(size, seed);
        const metadata = fileMetadata(size);
        const pieces = splitBySizes(body, inPieces);
        const { bytes: envelope, pieces: yielded } = await collect(sealStream(keys, metadata, asyncIn ? asAsync(pieces) : pieces, { chunkSize, concurrency: sealConcurrency }));

        const chunkCount = Math.max(1, Math.ceil(size / chunkSize));
        expect(envelope.length).toBe(plannedEnvelopeLength(metadata, chunkSize));
        expect(yielded.reduce((sum, p) => sum + p.length, 0)).toBe(envelope.length);
        // The head, then one piece per chunk: full chunks, then the rest (an empty body is one empty chunk).
        expect(yielded.map((p) => p.length)).toEqual([
          BODY_START,
          ...Array.from({ length: chunkCount }, (_, i) => (i < chunkCount - 1 ? chunkSize : size - chunkSize * (chunkCount - 1)) + TAG_LENGTH),
        ]);

        const outSplit = splitBySizes(envelope, outPieces);
        const opened = await openToBytes(keys, asyncOut ? asAsync(outSplit) : outSplit, { concurrency: openConcurrency });
        expect(opened.metadata).toEqual(metadata);
        expect(toHex(opened.body)).toBe(toHex(body));
      }),
      { numRuns: 150 },
    );
  });

  it('round-trips metadata of an image record with every optional field', async () => {
    const metadata: RecordMetadata = {
      kind: 'image',
      name: 'Röntgen 中文 😀.raw',
      mime: 'image/x-raw',
      byteLength: 2 * 3 * 2 * 2,
      image: { width: 2, height: 3, pixelFormat: 'GRAY16', frames: 2 },
      bodyEncoding: 'identity',
      createdAt: 1_764_000_000_000,
    };
    const body = pseudoRandomBytes(metadata.byteLength, 5);
    const opened = await openToBytes(keys, [await seal(body, C, metadata)]);
    expect(opened.metadata).toEqual(metadata);
    expect(toHex(opened.body)).toBe(toHex(body));
  });

  it('the envelope length matches plannedEnvelopeLength for large bodies without sealing them', () => {
    expect(plannedEnvelopeLength(fileMetadata(0), 64)).toBe(BODY_START + TAG_LENGTH);
    expect(plannedEnvelopeLength(fileMetadata(10 * 1024 * 1024))).toBe(BODY_START + 10 * 1024 * 1024 + 20 * TAG_LENGTH);
  });
});

describe('conformance with docs/FORMAT.md', () => {
  it('sealStream produces exactly the bytes the spec describes (hand-built envelope, same nonce prefix)', async () => {
    const prefix = Uint8Array.of(1, 2, 3, 4, 5, 6, 7);
    for (const size of [0, 1, C, 150]) {
      const metadata: RecordMetadata = { kind: 'file', name: 'a.txt', mime: 'text/plain', byteLength: size, createdAt: 1 };
      const body = pseudoRandomBytes(size, size + 3);
      const sealed = await sealToBytes(keys, metadata, [body], { chunkSize: C, randomBytes: () => prefix.slice() });
      const expected = await buildEnvelopeFromSpec(keys, JSON.stringify(metadata), body, C, prefix);
      expect(toHex(sealed)).toBe(toHex(expected));
    }
  });

  it('a reader ignores unknown metadata members', async () => {
    const body = pseudoRandomBytes(10);
    const json = JSON.stringify({ kind: 'file', name: 'a', mime: '', byteLength: 10, addedInVersion2: { x: 1 } });
    const opened = await openToBytes(keys, [await buildEnvelopeFromSpec(keys, json, body, C, Uint8Array.of(9, 9, 9, 9, 9, 9, 9))]);
    expect(opened.metadata).toEqual({ kind: 'file', name: 'a', mime: '', byteLength: 10 });
    expect(toHex(opened.body)).toBe(toHex(body));
  });

  it('authentic metadata it cannot understand (a future pixel format) is METADATA_INVALID', async () => {
    const json = JSON.stringify({ kind: 'image', name: 'a', mime: '', byteLength: 3, image: { width: 1, height: 1, pixelFormat: 'CMYK8' } });
    await caught(async () => openToBytes(keys, [await buildEnvelopeFromSpec(keys, json, pseudoRandomBytes(3), C, Uint8Array.of(9, 9, 9, 9, 9, 9, 9))]), 'METADATA_INVALID');
  });
});

describe('envelope header', () => {
  it("starts with 'EHRV', version 2, algorithm 1, flags 0, the chunk and metadata lengths, and a 32-byte commitment", async () => {
    const envelope = await seal(pseudoRandomBytes(100));
    expect(Array.from(envelope.subarray(0, 4))).toEqual(Array.from(ENVELOPE_MAGIC));
    expect(new TextDecoder().decode(envelope.subarray(0, 4))).toBe('EHRV');
    expect(envelope[4]).toBe(2);
    expect(envelope[5]).toBe(1);
    expect(readU16(envelope, 6)).toBe(0);
    expect(readU32(envelope, 8)).toBe(C);
    expect(readU32(envelope, 12)).toBe(256 + TAG_LENGTH);
    expect(envelope[23]).toBe(0);
    const header = parseEnvelopeHeader(envelope);
    expect(header).toMatchObject({ version: 2, algorithm: 1, flags: 0, chunkSize: C, metadataLength: 272 });
    expect(toHex(header.noncePrefix)).toBe(toHex(envelope.subarray(16, 23)));
    expect(header.commitment).toHaveLength(32);
    expect(toHex(header.commitment)).toBe(toHex(envelope.subarray(24, 56)));
    // The full HMAC(K_commit, header[0..24)), not a truncation.
    expect(toHex(header.commitment)).toBe(toHex(new Uint8Array(await crypto.subtle.sign('HMAC', keys.commitment, envelope.slice(0, 24)))));
  });

  it('draws a fresh nonce prefix per envelope, so equal inputs give different ciphertexts', async () => {
    const body = pseudoRandomBytes(200);
    const a = await seal(body);
    const b = await seal(body);
    expect(toHex(a.subarray(16, 23))).not.toBe(toHex(b.subarray(16, 23)));
    expect(toHex(a.subarray(BODY_START))).not.toBe(toHex(b.subarray(BODY_START)));
  });

  it('never shows the file name or MIME type, and hides the name length within 256-byte blocks', async () => {
    const name = 'Jane-Doe-MRI-brain-2024-confidential.dcm';
    const mime = 'application/dicom';
    const body = utf8(`not the name: ${'x'.repeat(300)}`);
    const envelope = await sealToBytes(keys, { kind: 'file', name, mime, byteLength: body.length }, [body], { chunkSize: C });
    for (const secret of [name, 'Jane-Doe', mime, '"name"', '"kind"', 'dicom']) expect(indexOfBytes(envelope, utf8(secret))).toBe(-1);
    const short = plannedEnvelopeLength({ kind: 'file', name: 'a', mime, byteLength: 10 }, C);
    const long = plannedEnvelopeLength({ kind: 'file', name: 'a'.repeat(150), mime, byteLength: 10 }, C);
    expect(long).toBe(short);
  });

  it('an authentic header (recommitted by a writer holding K_commit) of another version, algorithm or flags is ENVELOPE_UNSUPPORTED', async () => {
    const body = pseudoRandomBytes(10);
    const cases: [SpecHeader, Record<string, number>][] = [
      [{ version: 3 }, { version: 3, algorithm: 1, flags: 0 }],
      [{ version: 1 }, { version: 1, algorithm: 1, flags: 0 }],
      [{ algorithm: 7 }, { version: 2, algorithm: 7, flags: 0 }],
      [{ flags: 1 }, { version: 2, algorithm: 1, flags: 1 }],
    ];
    for (const [fields, details] of cases) {
      const spoiled = await buildEnvelopeFromSpec(keys, JSON.stringify(fileMetadata(10)), body, C, Uint8Array.of(1, 2, 3, 4, 5, 6, 7), fields);
      const error = await caught(() => openToBytes(keys, [spoiled]), 'ENVELOPE_UNSUPPORTED');
      expect(error.details).toEqual(details);
    }
  });

  it('an authentic header with a wrong magic, out-of-range lengths or a reserved byte is ENVELOPE_MALFORMED', async () => {
    const body = pseudoRandomBytes(10);
    for (const fields of [{ magic: utf8('EHRW') }, { chunkSize: 63 }, { chunkSize: MAX_CHUNK_SIZE + 1 }, { metadataLength: 16 + 255 }, { metadataLength: 16 }, { metadataLength: 16 + 65_536 + 256 }, { reserved: 1 }] satisfies SpecHeader[]) {
      const spoiled = await buildEnvelopeFromSpec(keys, JSON.stringify(fileMetadata(10)), body, C, Uint8Array.of(1, 2, 3, 4, 5, 6, 7), fields);
      await caught(() => openToBytes(keys, [spoiled]), 'ENVELOPE_MALFORMED');
    }
    // parseEnvelopeHeader on its own (used only after the commitment matched) judges the fields in the order of §9 step 13.
    caughtSync(() => parseEnvelopeHeader(utf8('%PDF-1.7 this is some other file format entirely..........')), 'ENVELOPE_MALFORMED');
  });

  it('checks the commitment before any field: every single bit flip in the 56 header bytes is ENVELOPE_TAMPERED at the header', async () => {
    // FORMAT.md §5/§9 step 13: without the keys no one can choose which error a reader reports.
    const envelope = await seal(pseudoRandomBytes(100));
    for (let bit = 0; bit < HEADER_LENGTH * 8; bit++) {
      const error = await caught(() => openToBytes(keys, [flipBit(envelope, bit)]), 'ENVELOPE_TAMPERED');
      expect(error.details).toEqual({ segment: 'header', offset: 0, length: HEADER_LENGTH });
    }
    // A changed field with the old commitment (someone without K_commit) too, whatever the field.
    for (const fields of [{ version: 3 }, { magic: utf8('XXXX') }, { chunkSize: 1 }, { reserved: 9 }] satisfies SpecHeader[]) {
      const spoiled = await buildEnvelopeFromSpec(keys, JSON.stringify(fileMetadata(10)), pseudoRandomBytes(10), C, Uint8Array.of(1, 2, 3, 4, 5, 6, 7), { ...fields, recommit: false });
      await caught(() => openToBytes(keys, [spoiled]), 'ENVELOPE_TAMPERED');
    }
  });
});

describe('openStream integrity', () => {
  it('rejects other keys at the commitment, before decrypting anything', async () => {
    // openRecord tells a wrong key apart by the heads and the sequence check (§9 steps 4, 9); the envelope
    // reader alone sees only a commitment that does not match.
    const envelope = await seal(pseudoRandomBytes(100));
    const other = (await freshKeys()).keys;
    const error = await caught(() => openStream(other, [envelope]), 'ENVELOPE_TAMPERED');
    expect(error.details).toEqual({ segment: 'header', offset: 0, length: HEADER_LENGTH });
  });

  it('rejects truncation at every length with ENVELOPE_TRUNCATED naming the part that is cut', async () => {
    const envelope = await seal(pseudoRandomBytes(150)); // chunks of 64, 64, 22
    const chunkEnds = [BODY_START + 80, BODY_START + 160, BODY_START + 160 + 38];
    expect(envelope.length).toBe(chunkEnds[2]);
    const whatAt = (length: number): string => {
      if (length < HEADER_LENGTH) return 'the header';
      if (length < BODY_START) return 'the record description';
      return `chunk ${chunkEnds.findIndex((end) => length < end)}`;
    };
    for (let length = 0; length < envelope.length; length++) {
      const error = await caught(() => openToBytes(keys, [envelope.subarray(0, length)]), 'ENVELOPE_TRUNCATED');
      expect(error.details.what).toBe(whatAt(length));
    }
  });

  it('rejects dropping the final chunk of a body of whole chunks (no silent short record)', async () => {
    const envelope = await seal(pseudoRandomBytes(3 * C));
    const error = await caught(() => openToBytes(keys, [envelope.subarray(0, envelope.length - (C + TAG_LENGTH))]), 'ENVELOPE_TRUNCATED');
    expect(error.details.what).toBe('chunk 2');
  });

  it('rejects appended bytes with ENVELOPE_TRAILING_DATA, in the same piece or a later one', async () => {
    for (const size of [0, 1, C, 150]) {
      const envelope = await seal(pseudoRandomBytes(size));
      await caught(() => openToBytes(keys, [concatBytes([envelope, Uint8Array.of(0)])]), 'ENVELOPE_TRAILING_DATA');
      await caught(() => openToBytes(keys, [envelope, new Uint8Array(0), Uint8Array.of(1, 2, 3)]), 'ENVELOPE_TRAILING_DATA');
      await caught(() => openToBytes(keys, asAsync([envelope, envelope.subarray(BODY_START)])), 'ENVELOPE_TRAILING_DATA');
      // Empty pieces after the end are not data.
      const opened = await openToBytes(keys, [envelope, new Uint8Array(0), new Uint8Array(0)]);
      expect(opened.body.length).toBe(size);
    }
  });

  it('rejects two swapped body chunks with ENVELOPE_TAMPERED at the first', async () => {
    const envelope = await seal(pseudoRandomBytes(3 * C));
    const c0 = envelope.slice(BODY_START, BODY_START + 80);
    const c1 = envelope.slice(BODY_START + 80, BODY_START + 160);
    const swapped = concatBytes([envelope.subarray(0, BODY_START), c1, c0, envelope.subarray(BODY_START + 160)]);
    const error = await caught(() => openToBytes(keys, [swapped]), 'ENVELOPE_TAMPERED');
    expect(error.details).toEqual({ segment: 'body', chunk: 0, offset: BODY_START, length: 80 });
  });

  it('rejects a dropped middle chunk (later chunks moved up) with ENVELOPE_TAMPERED at its index', async () => {
    for (const chunks of [3, 10]) {
      const envelope = await seal(pseudoRandomBytes(chunks * C));
      const dropped = concatBytes([envelope.subarray(0, BODY_START + 80), envelope.subarray(BODY_START + 160)]);
      for (const concurrency of [1, 4, 16]) {
        const error = await caught(() => openToBytes(keys, [dropped], { concurrency }), 'ENVELOPE_TAMPERED');
        expect(error.details.chunk).toBe(1);
      }
    }
  });

  it('reports the first failure in stream order: a damaged chunk before a cut is TAMPERED, not TRUNCATED', async () => {
    const envelope = await seal(pseudoRandomBytes(6 * C));
    const damaged = flipBit(envelope, (BODY_START + 80 + 5) * 8);
    for (const concurrency of [1, 2, 4, 16]) {
      const error = await caught(() => openToBytes(keys, asAsync([damaged.subarray(0, BODY_START + 3 * 80 + 10)]), { concurrency }), 'ENVELOPE_TAMPERED');
      expect(error.details.chunk).toBe(1);
    }
  });

  it('rejects a chunk taken from another record under the same key (other nonce prefix) with ENVELOPE_TAMPERED', async () => {
    const body = pseudoRandomBytes(3 * C, 3);
    const a = await seal(body);
    const b = await seal(body);
    for (const index of [0, 1, 2]) {
      const start = BODY_START + index * 80;
      const mixed = a.slice();
      mixed.set(b.subarray(start, start + 80), start);
      const error = await caught(() => openToBytes(keys, [mixed]), 'ENVELOPE_TAMPERED');
      expect(error.details).toEqual({ segment: 'body', chunk: index, offset: start, length: 80 });
    }
    // Another record's header with this record's metadata segment fails at the metadata.
    const mixedHead = concatBytes([b.subarray(0, HEADER_LENGTH), a.subarray(HEADER_LENGTH)]);
    const error = await caught(() => openToBytes(keys, [mixedHead]), 'ENVELOPE_TAMPERED');
    expect(error.details).toEqual({ segment: 'metadata', offset: HEADER_LENGTH, length: 272 });
  });

  it('rejects a bit flip anywhere after the header with ENVELOPE_TAMPERED naming the segment', async () => {
    const envelope = await seal(pseudoRandomBytes(150)); // chunks of 64, 64, 22
    for (let byte = HEADER_LENGTH; byte < envelope.length; byte++) {
      const error = await caught(() => openToBytes(keys, [flipBit(envelope, byte * 8 + (byte % 8))]), 'ENVELOPE_TAMPERED');
      if (byte < BODY_START) {
        expect(error.details).toEqual({ segment: 'metadata', offset: HEADER_LENGTH, length: 272 });
      } else {
        const chunk = Math.floor((byte - BODY_START) / 80);
        expect(error.details).toEqual({ segment: 'body', chunk, offset: BODY_START + chunk * 80, length: chunk === 2 ? 38 : 80 });
      }
    }
  });
});

describe('sealStream input checks', () => {
  it('rejects a source with too few bytes with SOURCE_LENGTH_MISMATCH', async () => {
    for (const [claimed, given] of [[100, 99], [100, 0], [C, C - 1], [3 * C, 2 * C]] as const) {
      const error = await caught(() => sealToBytes(keys, fileMetadata(claimed), splitBySizes(pseudoRandomBytes(given), [7, 30]), { chunkSize: C }), 'SOURCE_LENGTH_MISMATCH');
      expect(error.details).toEqual({ expected: claimed, actual: given });
    }
  });

  it('rejects a source with too many bytes with SOURCE_LENGTH_MISMATCH, in one piece or after the end', async () => {
    let error = await caught(() => sealToBytes(keys, fileMetadata(100), [pseudoRandomBytes(101)], { chunkSize: C }), 'SOURCE_LENGTH_MISMATCH');
    expect(error.details).toEqual({ expected: 100, actual: 101 });
    error = await caught(() => sealToBytes(keys, fileMetadata(100), asAsync([pseudoRandomBytes(100), Uint8Array.of(9)]), { chunkSize: C }), 'SOURCE_LENGTH_MISMATCH');
    expect(error.details).toEqual({ expected: 100, actual: 101 });
    error = await caught(() => sealToBytes(keys, fileMetadata(0), [Uint8Array.of(1)], { chunkSize: C }), 'SOURCE_LENGTH_MISMATCH');
    expect(error.details).toEqual({ expected: 0, actual: 1 });
  });

  it('rejects invalid metadata with METADATA_INVALID', async () => {
    const bad: unknown[] = [
      { kind: 'folder', name: 'x', mime: '', byteLength: 0 },
      { kind: 'file', name: 'x', mime: 'text plain', byteLength: 0 },
      { kind: 'file', name: 'x', mime: '', byteLength: -1 },
      { kind: 'file', name: 'x'.repeat(1025), mime: '', byteLength: 0 },
      { kind: 'image', name: 'x', mime: '', byteLength: 5, image: { width: 2, height: 2, pixelFormat: 'GRAY8' } },
      { kind: 'file', name: 'x', mime: '', byteLength: 0, image: { width: 1, height: 1, pixelFormat: 'GRAY8' } },
    ];
    for (const metadata of bad) {
      await caught(() => sealToBytes(keys, metadata as RecordMetadata, [], { chunkSize: C }), 'METADATA_INVALID');
    }
  });

  it('rejects chunk sizes outside 64 … 16 MiB with INPUT_INVALID', async () => {
    for (const chunkSize of [63, MAX_CHUNK_SIZE + 1, 100.5, 0]) {
      await caught(() => sealToBytes(keys, fileMetadata(1), [Uint8Array.of(1)], { chunkSize }), 'INPUT_INVALID');
    }
  });
});

describe('cancellation and progress', () => {
  it('an already-aborted signal stops sealing and opening with ABORTED', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user cancelled'));
    const error = await caught(() => sealToBytes(keys, fileMetadata(10), [pseudoRandomBytes(10)], { chunkSize: C, signal: controller.signal }), 'ABORTED');
    expect(error).toBeInstanceOf(AbortedError);
    expect((error.cause as Error).message).toBe('user cancelled');
    const envelope = await seal(pseudoRandomBytes(10));
    await caught(() => openStream(keys, [envelope], { signal: controller.signal }), 'ABORTED');
  });

  it('aborting during sealing stops before the next piece is yielded, whatever the concurrency', async () => {
    const chunks = 20;
    for (const concurrency of [1, 4, 32]) {
      for (const pieces of [[pseudoRandomBytes(chunks * C)], splitBySizes(pseudoRandomBytes(chunks * C), Array.from({ length: chunks }, () => C))]) {
        const controller = new AbortController();
        const yielded: Uint8Array[] = [];
        await caught(async () => {
          for await (const piece of sealStream(keys, fileMetadata(chunks * C), asAsync(pieces), {
            chunkSize: C,
            concurrency,
            signal: controller.signal,
            onProgress: ({ done }) => {
              if (done >= 2 * C) controller.abort();
            },
          })) {
            yielded.push(piece);
          }
        }, 'ABORTED');
        expect(yielded.map((p) => p.length)).toEqual([BODY_START, C + TAG_LENGTH, C + TAG_LENGTH]);
      }
    }
  });

  it('aborting during opening stops before the next chunk is yielded, whatever the concurrency', async () => {
    const chunks = 20;
    const envelope = await seal(pseudoRandomBytes(chunks * C));
    for (const concurrency of [1, 4, 32]) {
      for (const pieces of [[envelope], splitBySizes(envelope, Array.from({ length: 200 }, () => 16))]) {
        const controller = new AbortController();
        const opened = await openStream(keys, asAsync(pieces), {
          concurrency,
          signal: controller.signal,
          onProgress: ({ done }) => {
            if (done >= C) controller.abort();
          },
        });
        const got: Uint8Array[] = [];
        await caught(async () => {
          for await (const chunk of opened.chunks) got.push(chunk);
        }, 'ABORTED');
        expect(got).toHaveLength(1);
      }
    }
  });

  it('reports monotonically increasing progress that ends at the total, when sealing and opening', async () => {
    for (const size of [0, 1, C, 150, 5 * C]) {
      const sealing: Progress[] = [];
      const envelope = await sealToBytes(keys, fileMetadata(size), splitBySizes(pseudoRandomBytes(size), [10, 100]), {
        chunkSize: C,
        onProgress: (p) => sealing.push(p),
      });
      const opening: Progress[] = [];
      const opened = await openStream(keys, [envelope], { onProgress: (p) => opening.push(p) });
      await collect(opened.chunks);
      for (const reports of [sealing, opening]) {
        expect(reports.length).toBe(Math.max(1, Math.ceil(size / C)));
        expect(reports.every((p) => p.total === size)).toBe(true);
        expect(reports.at(-1)?.done).toBe(size);
        for (let i = 1; i < reports.length; i++) {
          expect(reports[i]!.done).toBeGreaterThan(reports[i - 1]!.done);
          expect(reports[i]!.done - reports[i - 1]!.done).toBeLessThanOrEqual(C);
        }
      }
    }
  });
});

describe('EnvelopeSealer / EnvelopeOpener', () => {
  it('seals exactly the planned chunks and refuses one more (no nonce reuse)', async () => {
    const metadata = fileMetadata(100);
    const sealer = await EnvelopeSealer.create(keys, metadata, { chunkSize: C });
    expect(sealer.chunkCount).toBe(2);
    expect([sealer.chunkPlaintextLength(0), sealer.chunkPlaintextLength(1)]).toEqual([64, 36]);
    expect(sealer.totalLength).toBe(plannedEnvelopeLength(metadata, C));

    const wrong = await caught(() => sealer.sealNext(new Uint8Array(10)), 'INPUT_INVALID');
    expect(wrong.details).toEqual({ index: 0, expected: 64, actual: 10 });
    expect(sealer.nextIndex).toBe(0);

    const body = pseudoRandomBytes(100, 11);
    const c0 = await sealer.sealNext(body.subarray(0, 64));
    expect(sealer.done).toBe(false);
    const c1 = await sealer.sealNext(body.subarray(64));
    expect(sealer.done).toBe(true);
    await caught(() => sealer.sealNext(new Uint8Array(36)), 'INPUT_INVALID');
    await caught(() => sealer.sealNext(new Uint8Array(0)), 'INPUT_INVALID');

    const envelope = concatBytes([sealer.head, c0, c1]);
    expect(envelope.length).toBe(sealer.totalLength);
    expect(toHex((await openToBytes(keys, [envelope])).body)).toBe(toHex(body));
  });

  it('is deterministic only when the nonce prefix source is replaced (test vectors)', async () => {
    const fixed = (n: number) => new Uint8Array(n).fill(0xa5);
    const body = pseudoRandomBytes(70);
    const a = await sealToBytes(keys, fileMetadata(70), [body], { chunkSize: C, randomBytes: fixed });
    const b = await sealToBytes(keys, fileMetadata(70), [body], { chunkSize: C, randomBytes: fixed });
    expect(toHex(a)).toBe(toHex(b));
    expect(toHex(a.subarray(16, 23))).toBe('a5a5a5a5a5a5a5');
    await caught(() => EnvelopeSealer.create(keys, fileMetadata(1), { chunkSize: C, randomBytes: (n) => new Uint8Array(n + 1) }), 'INPUT_INVALID');
  });

  it('the opener checks the commitment, then opens segments in order and refuses extra chunks', async () => {
    const body = pseudoRandomBytes(100, 12);
    const envelope = await seal(body);
    const other = await deriveRecordKeys(recordKey.map((b) => b ^ 1), recordId, new Uint8Array(32), new Uint8Array(16));
    await caught(() => EnvelopeOpener.create(other, envelope.subarray(0, HEADER_LENGTH)), 'ENVELOPE_TAMPERED');
    await caught(() => EnvelopeOpener.create(keys, envelope.subarray(0, HEADER_LENGTH - 1)), 'ENVELOPE_TRUNCATED');

    const opener = await EnvelopeOpener.create(keys, envelope.subarray(0, HEADER_LENGTH));
    expect(() => opener.metadata).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    await caught(() => opener.openMetadata(envelope.subarray(HEADER_LENGTH, BODY_START - 1)), 'ENVELOPE_MALFORMED');
    expect(await opener.openMetadata(envelope.subarray(HEADER_LENGTH, BODY_START))).toEqual(fileMetadata(100));
    expect([opener.chunkCount, opener.chunkCiphertextLength(0), opener.chunkCiphertextLength(1)]).toEqual([2, 80, 52]);
    expect(opener.bodyOffset(1)).toBe(BODY_START + 80);
    await caught(() => opener.openNext(envelope.subarray(BODY_START, BODY_START + 79)), 'ENVELOPE_MALFORMED');
    const p0 = await opener.openNext(envelope.subarray(BODY_START, BODY_START + 80));
    const p1 = await opener.openNext(envelope.subarray(BODY_START + 80));
    expect(toHex(concatBytes([p0, p1]))).toBe(toHex(body));
    expect(opener.done).toBe(true);
    await caught(() => opener.openNext(envelope.subarray(BODY_START + 80)), 'ENVELOPE_TRAILING_DATA');
  });
});
