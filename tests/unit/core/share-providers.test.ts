import { describe, expect, it } from 'vitest';
import { decodeShareText, encodeShareLink, encodeShareText } from '../../../src/core/share-text.js';

const recordId = 'AAECAwQFBgcICQoLDA0ODw';
const recordKey = Uint8Array.from({ length: 16 }, (_, i) => i);
const A = 'storageAAAAAAAAAAAAAAAAAAAAAAA';
const B = 'storageBBBBBBBBBBBBBBBBBBBBBBB';
const C = 'storageCCCCCCCCCCCCCCCCCCCCCCC';

describe('share links naming several storage providers (FORMAT.md §11.4)', () => {
  it('one provider without an origin is the single-provider link, byte for byte, and reads back the same', () => {
    const old = encodeShareText({ recordId, recordKey, storageId: A });
    expect(encodeShareText({ recordId, recordKey, storageId: A, providers: [{ storageId: A }] })).toBe(old);
    expect(decodeShareText(old)).toEqual({ recordId, recordKey, storageId: A });
  });

  it('several providers round-trip in placement order, each with the origin of its presign service', () => {
    const providers = [{ storageId: A }, { storageId: B, origin: 'https://store-two.example.org' }, { storageId: C, origin: 'http://127.0.0.1:9123' }];
    const link = encodeShareLink('https://vault.example.org/app/#/records', { recordId, recordKey, storageId: A, providers });
    expect(link.startsWith('https://vault.example.org/app/#ehrv1:')).toBe(true);
    // Nothing but the base64url alphabet, "." and "," after the key text: no ":" or "/" of an origin.
    expect(link.split(':').length).toBe(5);
    expect(decodeShareText(link)).toEqual({ recordId, recordKey, storageId: A, providers });
    // A trailing period from a chat app is still taken off.
    expect(decodeShareText(`${link}.`)).toEqual({ recordId, recordKey, storageId: A, providers });
  });

  it('refuses a damaged provider list with problem "storage"', () => {
    const good = encodeShareText({ recordId, recordKey, storageId: A, providers: [{ storageId: A }, { storageId: B, origin: 'https://two.example.org' }] });
    const problem = (text: string) => {
      try {
        decodeShareText(text);
        return 'ok';
      } catch (e) {
        return (e as { details: { problem: string } }).details.problem;
      }
    };
    expect(problem(good)).toBe('ok');
    expect(problem(good.replace(`,${B}`, `,${B.slice(0, 5)}`))).toBe('storage');
    expect(problem(`${good},${C}`)).toBe('storage'); // only the first provider may lack an origin
    expect(problem(good.replace(/\.[A-Za-z0-9_-]+$/u, '.aHR0cDovL2V4YW1wbGUub3Jn'))).toBe('storage'); // http://example.org: not https, not local
    expect(() => encodeShareText({ recordId, recordKey, providers: [{ storageId: A, origin: 'https://x.example.org/path' }] })).toThrow();
  });
});
