import { describe, expect, it } from 'vitest';
import { decodeShareText, EhrVaultError, encodeShareText, generateRecordId, generateRecordKey, toHex } from '../../src/core/index.js';

describe('share text', () => {
  it('round-trips and survives what chat apps do to pasted text', () => {
    const info = { recordId: generateRecordId(), recordKey: generateRecordKey() };
    const text = encodeShareText(info);
    expect(text).toMatch(/^ehrv1:[A-Za-z0-9_-]{22}:ehrvk1\.[A-Za-z0-9_-]{23}$/);
    for (const pasted of [text, ` ${text}\n`, `${text.slice(0, 20)}\n${text.slice(20)}.`, text.toUpperCase().slice(0, 6) + text.slice(6), `${text}\u200B`]) {
      const back = decodeShareText(pasted);
      expect(back.recordId).toBe(info.recordId);
      expect(toHex(back.recordKey)).toBe(toHex(info.recordKey));
    }
  });

  it('rejects a wrong character anywhere with SHARE_TEXT_INVALID or KEY_TEXT_INVALID, never a different key', () => {
    const info = { recordId: generateRecordId(), recordKey: generateRecordKey() };
    const text = encodeShareText(info);
    for (let i = 0; i < text.length; i++) {
      const replacement = text[i] === 'x' ? 'y' : 'x';
      const spoiled = text.slice(0, i) + replacement + text.slice(i + 1);
      let outcome: string;
      try {
        const got = decodeShareText(spoiled);
        // A changed record id still decodes (it has no check character) but must differ; the key must not change.
        outcome = got.recordId !== info.recordId && toHex(got.recordKey) === toHex(info.recordKey) ? 'other-record' : 'WRONG';
      } catch (error) {
        outcome = error instanceof EhrVaultError ? error.code : 'untyped';
      }
      expect(['SHARE_TEXT_INVALID', 'KEY_TEXT_INVALID', 'other-record']).toContain(outcome);
    }
  });

  it('says what is wrong with text that is not a share text', () => {
    const outcomes = ['hello', 'ehrv1:short:ehrvk1.abc', 'ehrv1:AAECAwQFBgcICQoLDA0ODw', 'ehrv1:AAECAwQFBgcICQoLDA0ODw:ehrvk1.abc'].map((t) => {
      try {
        decodeShareText(t);
        return 'ok';
      } catch (error) {
        return `${(error as EhrVaultError).code} ${String((error as EhrVaultError).details.problem)}`;
      }
    });
    // FORMAT.md §11.1: the share text's own problems are SHARE_TEXT_INVALID; its key text's are KEY_TEXT_INVALID.
    expect(outcomes).toEqual(['SHARE_TEXT_INVALID prefix', 'SHARE_TEXT_INVALID locator', 'SHARE_TEXT_INVALID key', 'KEY_TEXT_INVALID length']);
  });
});
