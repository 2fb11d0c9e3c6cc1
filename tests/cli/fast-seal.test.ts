import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { fromHex, openRecord, parseSequenceKey, stretchSequenceKey, toHex } from '../../src/core/index.js';
import { deriveLocatorKeys } from '../../src/core/keychain.js';
import { fragmentObjectName } from '../../src/core/object-names.js';
import { bytesSource, fastSeal } from '../../src/cli/fast-seal.js';
import type { RecordVector } from '../vectors/build-vector.js';

const dir = new URL('../vectors/', import.meta.url);
const vectors: RecordVector[] = [];
for (const f of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
  const v = JSON.parse(await readFile(new URL(f, dir), 'utf8')) as RecordVector;
  // Positive vectors written by the core writer carry their randomness: those a second writer must reproduce.
  if (v.expect === 'ok' && v.random && v.metadata && v.plaintext !== undefined && !v.madeFrom) vectors.push(v);
}

/** The vector's draws in protectRecord's order: nonce prefix, then one head nonce per slot. */
function seam(v: RecordVector): (length: number) => Uint8Array {
  const queue = [fromHex(v.random!.noncePrefix), ...v.random!.headNonces.map(fromHex)];
  return (length) => {
    const next = queue.shift();
    if (!next || next.length !== length) throw new Error('unexpected random draw');
    return next;
  };
}

describe('node:crypto sealing path of the CLI (fast-seal.ts)', () => {
  it('covers the positive vectors, with and without parity', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
    expect(vectors.some((v) => (v.parity ?? 0) > 0)).toBe(true);
  });

  for (const v of vectors) {
    it(`reproduces ${v.description.slice(0, 60)} byte for byte`, async () => {
      const key = parseSequenceKey(v.sequenceKey);
      const salt = fromHex(v.random!.kdfSalt);
      const batch = { sequenceKey: key, kdf: v.kdf!, salt, stretched: await stretchSequenceKey(key, salt, v.kdf!) };
      const sealed = await fastSeal(v.metadata!, v.sequenceKey, batch, bytesSource(fromHex(v.plaintext!)), {
        parity: v.parity ?? 0,
        digests: true,
        recordKey: fromHex(v.recordKey),
        recordId: v.recordId,
        randomBytes: seam(v),
        chunkSize: v.chunkSize,
      });
      expect(sealed.objects.map(toHex)).toEqual(v.objects);
      // The names come from node:crypto here; the core derives them through WebCrypto.
      const locator = await deriveLocatorKeys(sealed.recordKey);
      expect(sealed.names).toEqual(await Promise.all(sealed.objects.map((_, j) => fragmentObjectName(locator, sealed.recordId, j))));
      expect(sealed.names).toEqual(v.objectNames);
      const { createHash } = await import('node:crypto');
      expect(sealed.sha256).toEqual(sealed.objects.map((o) => createHash('sha256').update(o).digest('base64')));
      const opened = await openRecord(sealed.objects, v.sequenceKey, sealed.recordKey, sealed.recordId);
      expect(toHex(opened.body)).toBe(v.plaintext);
    });
  }
});
