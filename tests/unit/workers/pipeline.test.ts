/**
 * The real protect and open pipelines of the engine Worker (protect-engine.ts, open-engine.ts), run in
 * Node: one segment goes through the in-thread lane, results stay in memory. A pipeline bug shows here in
 * seconds instead of after a browser run.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkRecord, EhrVaultError, generateRecordId, generateRecordKey, parseSequenceKey, recordIdBytes, stretchForBatch, stretchSequenceKey, type BatchKdf } from '../../../src/core/index.js';
import { openInWorker } from '../../../src/workers/open-engine.js';
import { protectInWorker } from '../../../src/workers/protect-engine.js';
import type { EngineProgress } from '../../../src/workers/engine-api.js';

const KDF = { memoryKiB: 64, passes: 1, parallelism: 1 };

/** Length and SHA-256 of some bytes: compared instead of the bytes (toEqual walks megabytes element by element). */
function fingerprint(bytes: Uint8Array | false): string {
  return bytes === false ? 'not a file' : `${bytes.length}:${createHash('sha256').update(bytes).digest('hex')}`;
}
const KEY = 'adk21937';

/** Incompressible bytes: such a file keeps the identity encoding (FORMAT.md §6.3). */
function noise(size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(out.subarray(at, Math.min(size, at + 65_536)));
  return out;
}

function bytes(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return out;
}

async function protectFile(body: Uint8Array, name = 'note.pdf', mime = 'application/pdf', parity = 0, batch?: BatchKdf) {
  const recordKey = generateRecordKey();
  const recordId = generateRecordId();
  const phases: EngineProgress['phase'][] = [];
  const result = await protectInWorker({ source: new Blob([body as BlobPart]), name, mime, mode: 'file', sequenceKey: KEY, recordKey: recordKey.slice(), recordId, kdf: KDF, parity, batch }, (p) => phases.push(p.phase));
  return { result, recordKey, recordId, phases };
}

describe('engine pipelines in Node', () => {
  it('a file protects into n equal-length sealed objects and opens byte for byte from them in any order', async () => {
    const body = noise(300_000);
    const { result, recordKey, recordId, phases } = await protectFile(body);
    expect(result.metadata.bodyEncoding).toBeUndefined();
    expect(result.objects.map((o) => o.slot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(result.objects.map((o) => o.blob.size)).size).toBe(1);
    expect(phases).toContain('unlock');
    const opened = await openInWorker({ objects: [...result.objects].reverse().map((o) => o.blob), sequenceKey: KEY, recordKey, recordId });
    expect(opened.kind).toBe('file');
    if (opened.kind !== 'file') return;
    expect(fingerprint(new Uint8Array(await opened.blob.arrayBuffer()))).toBe(fingerprint(body));
    expect(opened.metadata).toMatchObject({ kind: 'file', name: 'note.pdf', mime: 'application/pdf', byteLength: body.length });
  });

  it('files of one protect batch (several picked at once) share one Argon2id, and each opens alone', async () => {
    let calls = 0;
    const batch = await stretchForBatch(parseSequenceKey(KEY), KDF, { stretch: (...args) => (calls++, stretchSequenceKey(...args)) });
    const bodies = [bytes(40_000, 1), bytes(50_000, 2), bytes(60_000, 3)];
    const made = [];
    for (const body of bodies) made.push(await protectFile(body, 'scan.pdf', 'application/pdf', 0, batch));
    expect(calls).toBe(1);
    for (const [i, m] of made.entries()) {
      const opened = await openInWorker({ objects: m.result.objects.map((o) => o.blob), sequenceKey: KEY, recordKey: m.recordKey, recordId: m.recordId });
      expect(opened.kind === 'file' && new Uint8Array(await opened.blob.arrayBuffer())).toEqual(bodies[i]);
    }
    // A batch stretched from another key is refused before anything is sealed.
    const other = await stretchForBatch(parseSequenceKey('zyx98765'), KDF);
    expect(await protectFile(bytes(10), 'x.pdf', 'application/pdf', 0, other).then(() => 'sealed', (e: unknown) => (e instanceof EhrVaultError ? e.code : String(e)))).toBe('INPUT_INVALID');
  });

  it('open given the batch a record was protected in takes X from it (no second Argon2id); a record of another batch ignores it', async () => {
    const batch = await stretchForBatch(parseSequenceKey(KEY), KDF);
    const mine = await protectFile(bytes(30_000, 4), 'scan.pdf', 'application/pdf', 0, batch);
    const other = await protectFile(bytes(30_000, 5));
    const open = (m: typeof mine, b: BatchKdf) =>
      openInWorker({ objects: m.result.objects.map((o) => o.blob), sequenceKey: KEY, recordKey: m.recordKey, recordId: m.recordId, batch: b }).then(
        async (o) => (o.kind === 'file' ? new Uint8Array(await o.blob.arrayBuffer()) : o.kind),
        (e: unknown) => (e instanceof EhrVaultError ? e.code : String(e)),
      );
    expect(await open(mine, batch)).toEqual(bytes(30_000, 4));
    // The same salt with a wrong X: the cache is what was used, and a wrong X is caught like a wrong key.
    expect(await open(mine, { ...batch, stretched: new Uint8Array(32) })).toBe('WRONG_SEQUENCE_KEY');
    // Another record's salt differs: X is computed, the batch is not used, the record opens.
    expect(await open(other, { ...batch, stretched: new Uint8Array(32) })).toEqual(bytes(30_000, 5));
  });

  it('a permuted sequence key, another record id, a dropped or damaged object: each its own code, nothing opened', async () => {
    const { result, recordKey, recordId } = await protectFile(bytes(50_000));
    const blobs = result.objects.map((o) => o.blob);
    const code = (request: Partial<Parameters<typeof openInWorker>[0]>) =>
      openInWorker({ objects: blobs, sequenceKey: KEY, recordKey, recordId, ...request }).then(
        () => 'opened',
        (e: unknown) => (e instanceof EhrVaultError ? e.code : String(e)),
      );
    expect(await code({ sequenceKey: 'adk21973' })).toBe('WRONG_SEQUENCE_KEY');
    expect(await code({ recordId: generateRecordId() })).toBe('WRONG_RECORD_KEY');
    expect(await code({ objects: blobs.slice(1) })).toBe('FRAGMENT_MISSING');
    const damaged = new Uint8Array(await blobs[3]!.arrayBuffer());
    damaged[damaged.length >> 1]! ^= 1;
    expect(await code({ objects: blobs.map((b, i) => (i === 3 ? new Blob([damaged]) : b)) })).toBe('FRAGMENT_TAMPERED');
  });

  it('with two parity objects, any two objects may be lost and the file still opens byte for byte', async () => {
    const body = bytes(120_000, 3);
    const { result, recordKey, recordId } = await protectFile(body, 'scan.pdf', 'application/pdf', 2);
    expect(result.objects).toHaveLength(10);
    const kept = result.objects.filter((o) => o.slot !== 2 && o.slot !== 9).map((o) => o.blob);
    const opened = await openInWorker({ objects: kept, sequenceKey: KEY, recordKey, recordId });
    expect(fingerprint(opened.kind === 'file' && new Uint8Array(await opened.blob.arrayBuffer()))).toBe(fingerprint(body));
    const tooFew = await openInWorker({ objects: kept.slice(1), sequenceKey: KEY, recordKey, recordId }).then(() => 'opened', (e: unknown) => (e instanceof EhrVaultError ? e.code : String(e)));
    expect(tooFew).toBe('FRAGMENT_MISSING');
  });

  it('parity built while sealing and parity read back afterwards give the same consistent objects (memory and pool paths)', async () => {
    // Compressible bytes take the in-memory path; random ones the segment pool.
    for (const body of [bytes(150_000, 4), noise(700_000)]) {
      for (const parityInMemoryMax of [undefined, 0]) {
        const recordKey = generateRecordKey();
        const recordId = generateRecordId();
        const result = await protectInWorker({ source: new Blob([body as BlobPart]), name: 'scan.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey: recordKey.slice(), recordId, kdf: KDF, parity: 2, parityInMemoryMax });
        const stored = await Promise.all(result.objects.map(async (o) => new Uint8Array(await o.blob.arrayBuffer())));
        const check = await checkRecord(recordKey, recordIdBytes(recordId), stored);
        expect(check, `parityInMemoryMax ${parityInMemoryMax}`).toMatchObject({ clean: true, bodies: 'consistent', parityCount: 2 });
        // Two data objects lost: both parity rows are needed to rebuild them.
        const kept = result.objects.filter((o) => o.slot !== 0 && o.slot !== 5).map((o) => o.blob);
        const opened = await openInWorker({ objects: kept, sequenceKey: KEY, recordKey, recordId });
        expect(fingerprint(opened.kind === 'file' && new Uint8Array(await opened.blob.arrayBuffer()))).toBe(fingerprint(body));
      }
    }
  });

  it('a file of several segments over two lanes: objects inside a lane are hashed there, the rest by the engine; every digest is right', async () => {
    // 6 MiB in 512 KiB chunks: two segments, so two lanes each taking one contiguous block.
    const body = noise(6 * 1024 * 1024);
    const recordKey = generateRecordKey();
    const recordId = generateRecordId();
    const result = await protectInWorker({ source: new Blob([body as BlobPart]), name: 'scan.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey: recordKey.slice(), recordId, kdf: KDF, parity: 2 });
    expect(result.objects).toHaveLength(10);
    for (const o of result.objects) expect(o.sha256, `slot ${o.slot}`).toBe(createHash('sha256').update(new Uint8Array(await o.blob.arrayBuffer())).digest('base64'));
    const opened = await openInWorker({ objects: result.objects.filter((o) => o.slot !== 3 && o.slot !== 6).map((o) => o.blob), sequenceKey: KEY, recordKey, recordId });
    expect(fingerprint(opened.kind === 'file' && new Uint8Array(await opened.blob.arrayBuffer()))).toBe(fingerprint(body));
  });

  it('every object, parity objects included, carries the SHA-256 of its exact bytes, computed while it was produced', async () => {
    for (const [size, parity] of [[300_000, 0], [120_000, 2], [0, 0]] as const) {
      const { result } = await protectFile(bytes(size, 5), 'scan.pdf', 'application/pdf', parity);
      for (const o of result.objects) {
        expect(o.sha256, `slot ${o.slot} of a ${size}-byte file, parity ${parity}`).toBe(createHash('sha256').update(new Uint8Array(await o.blob.arrayBuffer())).digest('base64'));
      }
    }
  });

  it('an empty file and a file recognised by content (DICOM marker) keep their bytes and type', async () => {
    const empty = await protectFile(new Uint8Array(0), 'empty.txt', 'text/plain');
    const opened = await openInWorker({ objects: empty.result.objects.map((o) => o.blob), sequenceKey: KEY, recordKey: empty.recordKey, recordId: empty.recordId });
    expect(opened.kind === 'file' && opened.blob.size).toBe(0);
    const dicom = new Uint8Array(4_000);
    dicom.set(new TextEncoder().encode('DICM'), 128);
    const d = await protectFile(dicom, '1.2.840.113619.2.55', '');
    expect(d.result.metadata.mime).toBe('application/dicom');
    expect(d.result.stored).toMatchObject({ as: 'original-bytes' });
  });

  it('a compressible file is deflated (contentLength kept) and opens byte for byte; an incompressible one is not', async () => {
    const text = new TextEncoder().encode('Patient: A. Example\nBlood pressure 120/80 mmHg\n'.repeat(4_000));
    const { result, recordKey, recordId, phases } = await protectFile(text, 'notes.txt', 'text/plain');
    expect(result.metadata).toMatchObject({ kind: 'file', bodyEncoding: 'deflate-raw', contentLength: text.length });
    expect(result.metadata.byteLength).toBeLessThan(text.length / 20);
    expect(phases).toContain('compress');
    const opened = await openInWorker({ objects: result.objects.map((o) => o.blob), sequenceKey: KEY, recordKey, recordId });
    expect(opened.kind === 'file' && Buffer.from(await opened.blob.arrayBuffer()).equals(Buffer.from(text))).toBe(true);
    // Half text, half noise: the first 256 KiB decide; the whole is kept only if it still saves ≥ 5%.
    const mixed = new Uint8Array(600_000);
    mixed.set(noise(600_000));
    const m = await protectFile(mixed, 'scan.pdf', 'application/pdf');
    expect(m.result.metadata.bodyEncoding).toBeUndefined();
    expect(m.result.metadata.byteLength).toBe(mixed.length);
  });

  it('a DICOM file with uncompressed pixels opens byte for byte from a compressed record, and a damaged object is FRAGMENT_TAMPERED', async () => {
    const { readFileSync } = await import('node:fs');
    const ct = new Uint8Array(readFileSync(new URL('../../fixtures/CT_small.dcm', import.meta.url)));
    const { result, recordKey, recordId } = await protectFile(ct, 'CT_small.dcm', '', 2);
    expect(result.metadata).toMatchObject({ mime: 'application/dicom', bodyEncoding: 'deflate-raw', contentLength: ct.length });
    const opened = await openInWorker({ objects: result.objects.map((o) => o.blob), sequenceKey: KEY, recordKey, recordId });
    expect(opened.kind === 'file' && opened.dicom).toBe(true);
    expect(opened.kind === 'file' && Buffer.from(await opened.blob.arrayBuffer()).equals(Buffer.from(ct))).toBe(true);
    const noParity = await protectFile(ct, 'CT_small.dcm', '', 0);
    const blobs = noParity.result.objects.map((o) => o.blob);
    const damaged = new Uint8Array(await blobs[5]!.arrayBuffer());
    damaged[damaged.length >> 1]! ^= 1;
    const code = await openInWorker({ objects: blobs.map((b, i) => (i === 5 ? new Blob([damaged]) : b)), sequenceKey: KEY, recordKey: noParity.recordKey, recordId: noParity.recordId }).then(
      () => 'opened',
      (e: unknown) => (e instanceof EhrVaultError ? e.code : String(e)),
    );
    expect(code).toBe('FRAGMENT_TAMPERED');
  });
});
