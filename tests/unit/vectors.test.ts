import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decodeKeyText, EhrVaultError, fromHex, openRecord, toHex } from '../../src/core/index.js';
import { buildVector, type VectorFile } from '../vectors/build-vector.js';
import { referenceObjectName, referenceOpen } from '../vectors/reference-decoder.js';
import { VECTOR_CASES } from '../vectors/vector-cases.js';

const dir = new URL('../vectors/', import.meta.url);
const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
const load = async (name: string) => JSON.parse(await readFile(new URL(name, dir), 'utf8')) as VectorFile;

describe('test vectors', () => {
  it('every vector case has its committed file and no file is orphaned', () => {
    expect(files).toEqual(VECTOR_CASES.map((c) => `${c.id}.json`).sort());
  });

  for (const c of VECTOR_CASES) {
    describe(c.id, () => {
      it('the implementation reproduces the committed bytes exactly', async () => {
        const committed = await load(`${c.id}.json`);
        expect(await buildVector(c)).toEqual(committed);
      });

      it('the key text decodes to the record key', async () => {
        const v = await load(`${c.id}.json`);
        expect(toHex(decodeKeyText(v.keyText))).toBe(v.recordKey);
      });

      it('object names match the reference derivation and are distinct', async () => {
        const v = await load(`${c.id}.json`);
        expect(v.objectNames).toEqual(v.objectNames.map((_, i) => referenceObjectName(v.recordKey, v.recordId, i)));
        expect(new Set(v.objectNames).size).toBe(Array.from(v.sequenceKey).length);
        for (const name of v.objectNames) expect(name).toMatch(/^[a-z2-7]{32}$/);
      });

      if (!c.expectError) {
        it('opens to the plaintext, and so does the reference decoder written from FORMAT.md', async () => {
          const v = await load(`${c.id}.json`);
          const opened = await openRecord(v.fragments.map((f) => fromHex(f.bytes)), v.sequenceKey, fromHex(v.recordKey));
          expect(toHex(opened.body)).toBe(v.plaintext);
          expect(opened.metadata).toEqual(v.metadata);
          const reference = referenceOpen(v.fragments.map((f) => f.bytes), v.sequenceKey, v.recordKey);
          expect(reference.plaintext.toString('hex')).toBe(v.plaintext);
          expect(reference.envelope.toString('hex')).toBe(v.envelope);
          expect(reference.metadata).toEqual(v.metadata);
          expect(v.fragments.map((f) => f.indexChar)).toEqual(Array.from(v.sequenceKey));
        });
      } else {
        it(`fails with ${c.expectError} and releases nothing, in both decoders`, async () => {
          const v = await load(`${c.id}.json`);
          const error = await openRecord(v.fragments.map((f) => fromHex(f.bytes)), v.mergeWith ?? v.sequenceKey, fromHex(v.recordKey)).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(EhrVaultError);
          expect((error as EhrVaultError).code).toBe(c.expectError);
          expect(v.expect).toEqual({ error: c.expectError });
          expect(() => referenceOpen(v.fragments.map((f) => f.bytes), v.mergeWith ?? v.sequenceKey, v.recordKey)).toThrow();
        });
      }
    });
  }
});
