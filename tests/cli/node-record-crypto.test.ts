import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeSealer } from '../../src/core/envelope-seal.js';
import { planFragments } from '../../src/core/fragments.js';
import { deriveLocatorBytes, deriveParityKey, deriveRecordKeys, deriveSecretBytes } from '../../src/core/keychain.js';
import type { RecordMetadata } from '../../src/core/metadata.js';
import { fragmentObjectName, generateRecordId } from '../../src/core/object-names.js';
import { recordIdBytes } from '../../src/core/open-objects.js';
import { OBJECT_VERSION, sealHead, type HeadFields } from '../../src/core/object-head.js';
import { sequenceCheck } from '../../src/core/seal-objects.js';
import { parseSequenceKey } from '../../src/core/sequence-key.js';
import { envelopeHeadSync, objectNameSync, planFragmentsSync, recordKeyBytes, sealHeadSync, sequenceCheckSync, wipeRecordKeyBytes } from '../../src/cli/node-record-crypto.js';

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
/** Sequence keys with 1- to 4-byte UTF-8 characters, as the paper's rule allows (no spaces, each once, ≥ 8). */
const sequenceKeys = fc
  .uniqueArray(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789#!%&*+-=?@éß€ж中𝄞😀'.match(/./gu)!), { minLength: 8, maxLength: 24 })
  .map((chars) => chars.join(''));
const fixed = (draws: Uint8Array[]) => (length: number) => {
  const next = draws.shift();
  if (!next || next.length !== length) throw new Error('unexpected draw');
  return next;
};

describe('node:crypto record steps (node-record-crypto.ts) give the core WebCrypto bytes', () => {
  it('keys, object names, sequence check and parity key', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(16), bytes(16), bytes(32), fc.integer({ min: 0, max: 0xffff }), async (recordKey, id, stretched, position) => {
        const sync = recordKeyBytes(recordKey, id, stretched);
        const locator = await deriveLocatorBytes(recordKey);
        const secret = await deriveSecretBytes(recordKey, id, stretched);
        expect([sync.objectNames, sync.head]).toEqual([locator.objectNames, locator.head]);
        expect([sync.encryption, sync.commitment, sync.fragments, sync.wrap, sync.check]).toEqual([secret.encryption, secret.commitment, secret.fragments, secret.wrap, secret.check]);
        const keys = await deriveRecordKeys(recordKey, id, stretched, new Uint8Array(16));
        const recordId = Buffer.from(id).toString('base64url');
        expect(objectNameSync(sync.objectNames, recordId, position)).toBe(await fragmentObjectName(keys, recordId, position));
        expect(sequenceCheckSync(sync.check)).toEqual(await sequenceCheck(keys));
        // The parity key is a non-extractable AES-CTR CryptoKey in the core: compare what each encrypts.
        const counter = new Uint8Array(16);
        const plain = new Uint8Array(48).fill(position & 0xff);
        const viaCore = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 64 }, await deriveParityKey(recordKey), plain));
        expect(new Uint8Array(createCipheriv('aes-128-ctr', sync.parity, counter).update(plain))).toEqual(viaCore);
        wipeRecordKeyBytes(sync);
        expect(Object.values(sync).every((k: Uint8Array) => k.every((b) => b === 0))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('heads, frames and the envelope head', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(16),
        bytes(32),
        sequenceKeys,
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 0, max: 4 }),
        bytes(7),
        bytes(12),
        fc.constantFrom(64, 4096, 512 * 1024),
        async (recordKey, stretched, text, byteLength, parity, noncePrefix, headNonce, chunkSize) => {
          const key = parseSequenceKey(text);
          const recordId = generateRecordId();
          const id = recordIdBytes(recordId);
          const sync = recordKeyBytes(recordKey, id, stretched);
          const keys = await deriveRecordKeys(recordKey, id, stretched, new Uint8Array(16).fill(3));
          const metadata: RecordMetadata = { kind: 'file', name: `scan-${text}.dcm`, mime: 'application/dicom', byteLength, createdAt: 1_700_000_000_000 };
          const core = await EnvelopeSealer.create(keys, metadata, { randomBytes: fixed([noncePrefix.slice()]), chunkSize });
          const mine = envelopeHeadSync(sync, metadata, fixed([noncePrefix.slice()]), chunkSize);
          expect(mine.head).toEqual(core.head);
          expect(mine.header).toEqual(core.header);
          expect([mine.totalLength, mine.chunkCount]).toEqual([core.totalLength, core.chunkCount]);
          for (const i of [0, mine.chunkCount - 1]) expect(mine.chunkPlaintextLength(i)).toBe(core.chunkPlaintextLength(i));
          expect(planFragmentsSync(sync.fragments, key, mine.totalLength)).toEqual(await planFragments(keys, key, mine.totalLength));
          const fields: HeadFields = { version: OBJECT_VERSION, kind: parity > 0 ? 'parity' : 'data', n: key.n, parityCount: parity, slot: parity > 0 ? key.n : 0, kdf: { memoryKiB: 65536, passes: 4, parallelism: 1 }, bodyLength: 1000, check: sequenceCheckSync(sync.check), parityAlgorithm: parity > 0 ? 1 : 0, kdfSalt: keys.kdfSalt };
          expect(sealHeadSync(sync.head, id, fields, fixed([headNonce.slice()]))).toEqual(await sealHead(keys.head, id, fields, fixed([headNonce.slice()])));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses keys of the wrong length, as the core does', () => {
    expect(() => recordKeyBytes(new Uint8Array(15), new Uint8Array(16), new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => recordKeyBytes(new Uint8Array(16), new Uint8Array(16), new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => envelopeHeadSync(recordKeyBytes(new Uint8Array(16), new Uint8Array(16), new Uint8Array(32)), { kind: 'file', name: 'a', mime: '', byteLength: 1, createdAt: 1 }, () => new Uint8Array(7), 63)).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID' }),
    );
  });
});
