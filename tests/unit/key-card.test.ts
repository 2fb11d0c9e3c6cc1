/**
 * Key cards and share texts wrapped to one (FORMAT.md §11.3, issue #13): the committed vectors are
 * reproduced byte for byte by src/core and opened by the reference reader written from the spec
 * (tests/vectors/reference-key-card.ts, HPKE by hand over node:crypto).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  decodeKeyCard, decodeShareText, encodeKeyCard, encodeKeyCardLink, encodeWrappedShareLink, generateCardKeyPair, keyCardOf, normaliseCardName, readShareText,
  toHex, unwrapRecordKey, wrapRecordKey, type CardHolder,
} from '../../src/core/index.js';
import { buildKeyCardVector, fixedRecipient, holderOf, implementationCard, implementationOpen, type KeyCardVector } from '../vectors/key-card-vector.js';
import { openWrappedShareText, readKeyCard, RefKeyCardError } from '../vectors/reference-key-card.js';

const vector = JSON.parse(await readFile(new URL('../vectors/key-card.json', import.meta.url), 'utf8')) as KeyCardVector;

function reference<T>(run: () => T): T | { error: string; problem?: string } {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof RefKeyCardError)) throw error;
    return error.problem ? { error: error.code, problem: error.problem } : { error: error.code };
  }
}

async function freshHolder(name: string): Promise<CardHolder> {
  const { keyPair, publicKey } = await generateCardKeyPair();
  return { card: await keyCardOf(publicKey, name), keyPair };
}

describe('key-card vectors (FORMAT.md §11.3)', () => {
  it('src/core reproduces tests/vectors/key-card.json byte for byte (fixed recipient, fixed ekm)', async () => {
    expect(await buildKeyCardVector()).toEqual(vector);
  });

  it('every card case: the implementation and the reference reader agree with the committed outcome', async () => {
    for (const c of vector.cards) {
      expect(await implementationCard(c.input), c.description).toEqual(c.expect);
      const ref = reference(() => {
        const card = readKeyCard(c.input);
        return { ok: { publicKey: card.publicKey.toString('hex'), name: card.name, fingerprint: card.fingerprint } };
      });
      expect(ref, c.description).toEqual(c.expect);
    }
  });

  it('every wrapped text: opened with the fixed recipient by both readers, same key or same error', async () => {
    const recipient = fixedRecipient('recipient key');
    const holder = await holderOf(recipient, vector.recipient.name);
    for (const c of vector.wrappedTexts) {
      expect(await implementationOpen(c.input, holder), c.description).toEqual(c.expect);
      const ref = reference(() => {
        const opened = openWrappedShareText(c.input, Buffer.from(vector.recipient.privateKey, 'hex'));
        return { ok: { recordId: opened.recordId, recordKey: opened.recordKey.toString('hex'), storageId: opened.storageId ?? null, name: opened.name } };
      });
      expect(ref, c.description).toEqual(c.expect);
    }
    // The reference's HPKE by hand gives the vector's record key from its enc and ct.
    expect(openWrappedShareText(vector.shareText, Buffer.from(vector.recipient.privateKey, 'hex')).recordKey.toString('hex')).toBe(vector.recordKey);
    expect(reference(() => openWrappedShareText(vector.shareText, undefined))).toEqual({ error: 'SHARED_TO_ANOTHER_CARD' });
  });

  it('the reference reads the fingerprint and key id the vector states', () => {
    const card = readKeyCard(vector.recipient.keyCard);
    expect(card.fingerprint).toBe(vector.recipient.fingerprint);
    expect(card.keyId.toString('hex')).toBe(vector.recipient.keyId);
    expect(vector.recipient.fingerprint).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){4}$/);
  });
});

describe('key cards on a device', () => {
  it('a fresh card: the private key cannot be exported; wrap and unwrap give the record key back', async () => {
    const holder = await freshHolder('Dr Lee');
    await expect(crypto.subtle.exportKey('jwk', holder.keyPair.privateKey)).rejects.toThrow();
    const recordKey = crypto.getRandomValues(new Uint8Array(16));
    const card = await decodeKeyCard(encodeKeyCardLink('https://vault.example/#/settings', holder.card));
    expect(card.fingerprint).toBe(holder.card.fingerprint);
    const link = encodeWrappedShareLink('https://vault.example/#/records', { recordId: 'AAAAAAAAAAAAAAAAAAAAAA', wrapped: await wrapRecordKey(card, 'AAAAAAAAAAAAAAAAAAAAAA', recordKey), storageId: 'x'.repeat(80) });
    expect(link).not.toContain(toHex(recordKey));
    const info = readShareText(link);
    if (!('wrapped' in info)) throw new Error('expected a wrapped share text');
    expect(info.storageId).toBe('x'.repeat(80));
    expect(toHex(await unwrapRecordKey(info.wrapped, info.recordId, holder))).toBe(toHex(recordKey));
  });

  it('each wrap uses a fresh ephemeral key: two links for one record differ', async () => {
    const holder = await freshHolder('Dr Lee');
    const key = new Uint8Array(16);
    const a = await wrapRecordKey(holder.card, 'AAAAAAAAAAAAAAAAAAAAAA', key);
    const b = await wrapRecordKey(holder.card, 'AAAAAAAAAAAAAAAAAAAAAA', key);
    expect(toHex(a.enc)).not.toBe(toHex(b.enc));
    expect(toHex(a.sealed)).not.toBe(toHex(b.sealed));
  });

  it("another device, or none, gets SHARED_TO_ANOTHER_CARD naming the card's holder; never a key", async () => {
    const doctor = await freshHolder('Dr María Ortiz');
    const other = await freshHolder('Dr Other');
    const wrapped = await wrapRecordKey(doctor.card, 'AAAAAAAAAAAAAAAAAAAAAA', new Uint8Array(16).fill(9));
    for (const holder of [other, undefined]) {
      const error = await unwrapRecordKey(wrapped, 'AAAAAAAAAAAAAAAAAAAAAA', holder).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SHARED_TO_ANOTHER_CARD', message: "This link was shared to Dr María Ortiz's key card." });
      expect((error as { hint: string }).hint).toContain('Open it on the device that holds that card');
    }
  });

  it('a reader that does not know key cards refuses a wrapped text as SHARE_TEXT_INVALID', async () => {
    const holder = await freshHolder('Dr Lee');
    const link = encodeWrappedShareLink('https://vault.example/', { recordId: 'AAAAAAAAAAAAAAAAAAAAAA', wrapped: await wrapRecordKey(holder.card, 'AAAAAAAAAAAAAAAAAAAAAA', new Uint8Array(16)) });
    expect(() => decodeShareText(link)).toThrow(expect.objectContaining({ code: 'SHARE_TEXT_INVALID', message: expect.stringContaining("Dr Lee's key card") }));
  });

  it('names are normalised when a card is made, and refused when not normal on reading', async () => {
    expect(normaliseCardName('  Dr\u00A0 Nun\u0303ez\n')).toBe('Dr Nuñez');
    expect(() => normaliseCardName('   ')).toThrow(expect.objectContaining({ code: 'KEY_CARD_INVALID', problem: 'name' }));
    expect(() => normaliseCardName('Dr \u202Eabc')).toThrow(expect.objectContaining({ code: 'KEY_CARD_INVALID', problem: 'name' }));
    const holder = await freshHolder('Dr Lee');
    expect(() => encodeKeyCard({ publicKey: holder.card.publicKey, name: ' Dr Lee' })).toThrow(expect.objectContaining({ problem: 'name' }));
  });
});
