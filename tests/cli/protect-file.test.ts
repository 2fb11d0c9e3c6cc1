import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stretchForBatch } from '../../src/core/batch-kdf.js';
import { openRecord } from '../../src/core/record.js';
import { parseSequenceKey } from '../../src/core/sequence-key.js';
import { TEST_KDF } from '../../src/cli/kdf-choice.js';
import { protectFile } from '../../src/cli/protect-file.js';
import { pseudoRandomBytes, tempDir } from '../integration/stack-helpers.js';

const SEQUENCE_KEY = 'Hq4#nW8!pL2x';
const N = SEQUENCE_KEY.length;
const DICOM = new URL('../fixtures/CT_small.dcm', import.meta.url);
/** Byte equality without a deep-equal diff (which runs out of memory on 17 MiB arrays). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

describe('protect-file: what the CLI writes for one input (node:crypto writer, FORMAT.md §6.3, §4.4)', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let batch: Awaited<ReturnType<typeof stretchForBatch>>;
  beforeAll(async () => {
    temp = await tempDir('cli-protect-file');
    batch = await stretchForBatch(parseSequenceKey(SEQUENCE_KEY), TEST_KDF);
  });
  afterAll(() => temp.remove());

  async function protect(name: string, bytes: Uint8Array, extra: { compress?: boolean; parity?: number } = {}) {
    const path = join(temp.path, name);
    await writeFile(path, bytes);
    const result = await protectFile({ path, name, sequenceKey: SEQUENCE_KEY, kdf: TEST_KDF, batch, digests: false, ...extra });
    return { result, opened: await openRecord(result.objects, SEQUENCE_KEY, result.recordKey, result.recordId) };
  }

  it('a DICOM that compresses is stored deflated with its content length, as the app does, and inflates to its bytes', async () => {
    const dicom = new Uint8Array(await readFile(DICOM));
    const { result, opened } = await protect('CT_small.dcm', dicom);
    expect(opened.metadata).toMatchObject({ kind: 'file', mime: 'application/dicom', bodyEncoding: 'deflate-raw', contentLength: dicom.length });
    expect(opened.body.length).toBeLessThanOrEqual(dicom.length * 0.95);
    expect(new Uint8Array(inflateRawSync(opened.body))).toEqual(dicom);
    expect(result.objects).toHaveLength(N + 2);
    // --no-compress keeps the original bytes.
    const plain = await protect('CT_plain.dcm', dicom, { compress: false });
    expect(plain.opened.metadata.bodyEncoding ?? 'identity').toBe('identity');
    expect(plain.opened.body).toEqual(dicom);
  });

  it('the 16 KiB prefilter: a file whose first 16 KiB do not deflate is kept as it is, one whose first 16 KiB do goes on to the 256 KiB rule', async () => {
    const zeros = new Uint8Array(1_500_000);
    // Noise, then 1.48 MB of zeros: the 256 KiB sample alone would deflate to ~7 %; the first 16 KiB decide.
    const noisyStart = zeros.slice();
    noisyStart.set(pseudoRandomBytes(16 * 1024, 6), 0);
    expect((await protect('noisy-start.bin', noisyStart)).opened.metadata.bodyEncoding ?? 'identity').toBe('identity');
    // The same with 15 KiB of noise: its first 16 KiB deflate to ~94 % (passes the prefilter), the sample to ~6 %.
    const mostlyNoise = zeros.slice();
    mostlyNoise.set(pseudoRandomBytes(15 * 1024, 6), 0);
    const { opened } = await protect('mostly-zeros.bin', mostlyNoise);
    expect(opened.metadata).toMatchObject({ bodyEncoding: 'deflate-raw', contentLength: 1_500_000 });
    expect(same(new Uint8Array(inflateRawSync(opened.body)), mostlyNoise)).toBe(true);
  });

  it('a file of at most 1 MiB is judged by its whole deflated size, a larger one by its first 256 KiB', async () => {
    // 8 KiB of zeros, noise to 400 KB, then zeros: the first 16 KiB pass the prefilter, the 256 KiB sample does
    // not (≈ 97 %), the whole does (≈ 40 %).
    const shaped = (length: number) => {
      const bytes = new Uint8Array(length);
      bytes.set(pseudoRandomBytes(400_000 - 8192, 8), 8192);
      return bytes;
    };
    const slice = shaped(1_000_000);
    const small = await protect('slice.dcm', slice);
    expect(small.opened.metadata).toMatchObject({ bodyEncoding: 'deflate-raw', contentLength: slice.length });
    expect(small.opened.body.length).toBeLessThan(slice.length * 0.45);
    expect(same(new Uint8Array(inflateRawSync(small.opened.body)), slice)).toBe(true);
    const larger = shaped(1_100_000);
    expect((await protect('larger.dcm', larger)).opened.metadata.bodyEncoding ?? 'identity').toBe('identity');
  });

  it('an incompressible file is kept as it is (only the 256 KiB sample is deflated)', async () => {
    const bytes = pseudoRandomBytes(600_000, 5);
    const { opened } = await protect('noise.bin', bytes);
    expect(opened.metadata.bodyEncoding ?? 'identity').toBe('identity');
    expect(opened.metadata).not.toHaveProperty('contentLength');
    expect(same(opened.body, bytes)).toBe(true);
  });

  it('a file larger than 16 MiB is streamed in segments, opens byte for byte, and any 2 objects may be lost', async () => {
    const bytes = pseudoRandomBytes(17 * 1024 * 1024 + 12_345, 9);
    bytes.set([0x25, 0x50, 0x44, 0x46, 0x2d], 0); // %PDF-: a file the CLI keeps as its bytes
    const { result, opened } = await protect('scan.pdf', bytes);
    expect(opened.metadata).toMatchObject({ kind: 'file', mime: 'application/pdf', byteLength: bytes.length });
    expect(same(opened.body, bytes)).toBe(true);
    expect(result.inputBytes).toBe(bytes.length);
    expect(result.objects).toHaveLength(N + 2);
    const twoLost = result.objects.filter((_, slot) => slot !== 1 && slot !== 7);
    expect(same((await openRecord(twoLost, SEQUENCE_KEY, result.recordKey, result.recordId)).body, bytes)).toBe(true);
  });

  it('--parity 0 writes the data objects only; --parity 3 three parity objects', async () => {
    const bytes = pseudoRandomBytes(50_000, 3);
    expect((await protect('p0.bin', bytes, { parity: 0 })).result.objects).toHaveLength(N);
    const p3 = await protect('p3.bin', bytes, { parity: 3 });
    expect(p3.result.objects).toHaveLength(N + 3);
    const threeLost = p3.result.objects.filter((_, slot) => ![0, 5, 11].includes(slot));
    expect((await openRecord(threeLost, SEQUENCE_KEY, p3.result.recordKey, p3.result.recordId)).body).toEqual(bytes);
  });
});
