import { readdir, readFile } from 'node:fs/promises';
import { inflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeKeyText, decodeShareText, fromHex, openRecord, toHex, type RecordMetadata } from '../../src/core/index.js';
import { openRecord as referenceOpen } from '../vectors/reference-decoder.js';
import { decodePixelBody } from '../../src/workers/pixel-body.js';
import { buildArgon2Vector, buildNegative, buildPositive, buildRebuild, buildTextsVector, readerOutcome, type RecordVector } from '../vectors/build-vector.js';
import { craftRecord } from '../vectors/craft.js';
import { NEGATIVE_CASES } from '../vectors/negative-cases.js';
import { DECODED_CONTENT, DEFLATE_PIXELS, POSITIVE_CASES, REBUILD_CASES } from '../vectors/vector-cases.js';

const dir = new URL('../vectors/', import.meta.url);
const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
const load = async <T = RecordVector>(name: string) => JSON.parse(await readFile(new URL(name, dir), 'utf8')) as T;

/** Every code of FORMAT.md §9.1, which must each have a vector. */
const FORMAT_CODES = [
  'SEQUENCE_KEY_INVALID', 'KEY_TEXT_INVALID', 'SHARE_TEXT_INVALID', 'FRAGMENT_MISSING', 'FRAGMENT_TRUNCATED', 'WRONG_RECORD_KEY', 'FRAGMENT_FOREIGN',
  'FRAGMENT_UNSUPPORTED', 'FRAGMENT_MALFORMED', 'CHAIN_BROKEN', 'FRAGMENT_DUPLICATE', 'WRONG_SEQUENCE_KEY', 'FRAGMENT_TAMPERED', 'CHAIN_LOOP',
  'ENVELOPE_TRUNCATED', 'ENVELOPE_MALFORMED', 'ENVELOPE_UNSUPPORTED', 'METADATA_INVALID', 'ENVELOPE_TRAILING_DATA',
];

describe('test vectors (FORMAT.md §12)', () => {
  it('every case has its committed file and no file is orphaned', () => {
    const expected = [...POSITIVE_CASES.map((c) => c.id), ...REBUILD_CASES.map((c) => c.id), ...NEGATIVE_CASES.map((c) => c.id), 'argon2id', 'texts', 'key-card'].map((id) => `${id}.json`).sort();
    expect(files).toEqual(expected);
  });

  it('FORMAT.md §9.1 lists exactly the codes the vectors cover, and every code has a vector', async () => {
    const spec = await readFile(new URL('../../docs/FORMAT.md', import.meta.url), 'utf8');
    const table = spec.slice(spec.indexOf('### 9.1 Error codes'), spec.indexOf('## 10.'));
    const listed = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual([...FORMAT_CODES].sort());
    const covered = new Set<string>();
    for (const c of NEGATIVE_CASES) covered.add(c.expect);
    const texts = await load<{ sequenceKeys: { expect: { error?: string } }[]; keyTexts: { expect: { error?: string } }[]; shareTexts: { expect: { error?: string } }[] }>('texts.json');
    for (const list of [texts.sequenceKeys, texts.keyTexts, texts.shareTexts]) for (const t of list) if (t.expect.error) covered.add(t.expect.error);
    expect([...covered].sort()).toEqual([...FORMAT_CODES].sort());
  });

  it('the writer with seams writes, without seams, the very bytes of the real writer', async () => {
    const c = POSITIVE_CASES.find((p) => p.id === 'file-text')!;
    const v = await buildPositive(c);
    const crafted = await craftRecord({ ...c, headNonces: v.random!.headNonces });
    expect(crafted.objects.map(toHex)).toEqual(v.objects);
  });

  for (const c of POSITIVE_CASES) {
    describe(c.id, () => {
      it('the implementation reproduces the committed bytes exactly, and opens them', async () => {
        const committed = await load(`${c.id}.json`);
        expect(await buildPositive(c)).toEqual(committed);
        const opened = await openRecord([...committed.objects].reverse().map(fromHex), committed.sequenceKey, fromHex(committed.recordKey), committed.recordId);
        expect(toHex(opened.body)).toBe(committed.plaintext);
        expect(opened.metadata).toEqual(committed.metadata);
        expect(toHex(decodeKeyText(committed.keyText!))).toBe(committed.recordKey);
        expect(decodeShareText(committed.shareText!).recordId).toBe(committed.recordId);
        // Every object of a record has the same length: 92 + B.
        expect(new Set(committed.objects.map((o) => o.length)).size).toBe(1);
      });
    });
  }

  it('the deflate vector inflates to its pixels', async () => {
    const v = await load('image-deflate-rgb8.json');
    expect(inflateSync(fromHex(v.plaintext!))).toEqual(DEFLATE_PIXELS);
  });

  for (const [id, content] of Object.entries(DECODED_CONTENT)) {
    it(`${id}: the engine's decoder and the reference decoder give the same content (§6.2, §6.3)`, async () => {
      const v = await load(`${id}.json`);
      const metadata = v.metadata as unknown as RecordMetadata;
      const body = fromHex(v.plaintext!);
      const encoding = metadata.bodyEncoding;
      const engine = encoding === 'filtered-deflate-raw' || encoding === 'webp-lossless' ? await decodePixelBody(body, metadata.image!, encoding) : inflateSync(body);
      expect(toHex(engine)).toBe(toHex(content));
      const reference = referenceOpen(fromHex(v.recordKey), Buffer.from(v.recordId, 'base64url'), v.sequenceKey, v.objects.map(fromHex));
      expect(toHex(reference.content!)).toBe(toHex(content));
    });
  }

  for (const c of REBUILD_CASES) {
    it(`${c.id}: opens from fewer objects (parity, §9 step 10), reproduced`, async () => {
      const committed = await load(`${c.id}.json`);
      expect(await buildRebuild(c)).toEqual(committed);
      expect(committed.expect).toBe('ok');
      const from = await load(`${c.from}.json`);
      expect(committed.objects.length).toBeLessThan(from.objects.length);
      const opened = await openRecord(committed.objects.map(fromHex), committed.sequenceKey, fromHex(committed.recordKey), committed.recordId);
      expect(toHex(opened.body)).toBe(committed.plaintext);
    });
  }

  for (const c of NEGATIVE_CASES) {
    it(`${c.id}: ${c.expect}, reproduced, with the committed blame`, async () => {
      const committed = await load(`${c.id}.json`);
      expect(await buildNegative(c)).toEqual(committed);
      expect(committed.expect).not.toBe('ok');
      expect((committed.expect as { error: string }).error).toBe(c.expect);
      expect(await readerOutcome(committed)).toEqual(committed.expect);
    });
  }

  it('argon2id.json and texts.json are reproduced', async () => {
    expect(await buildArgon2Vector()).toEqual(await load('argon2id.json'));
    expect(await buildTextsVector()).toEqual(await load('texts.json'));
  });
});
