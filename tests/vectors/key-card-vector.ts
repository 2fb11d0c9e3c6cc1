/**
 * tests/vectors/key-card.json (FORMAT.md §11.3): a fixed recipient key, fixed HPKE ephemeral input keying
 * material, and the cards and wrapped share texts made from them by the implementation in src/core.
 */
import { createECDH, createHash } from 'node:crypto';
import {
  decodeKeyCard, EhrVaultError, encodeKeyCard, encodeWrappedShareLink, keyCardOf, readShareText, toBase64Url, toHex, unwrapRecordKey, wrapRecordKey,
  type CardHolder, type KeyCard,
} from '../../src/core/index.js';

const seed = (label: string) => createHash('sha256').update(`EHR Vault test vector: ${label}`).digest();

export const RECIPIENT_NAME = 'Dr Ana Ruiz-Núñez';
const RECORD_KEY = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
const RECORD_ID = toBase64Url(Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i));
const STORAGE_ID = 'S'.repeat(40) + toBase64Url(seed('storage id')).slice(0, 40);
/** Any base URL: only the part after `#` is the share text. */
const APP = 'https://vault.example/';

export interface Recipient {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export function fixedRecipient(label: string): Recipient {
  const ecdh = createECDH('prime256v1');
  const privateKey = new Uint8Array(seed(label));
  ecdh.setPrivateKey(privateKey);
  return { privateKey, publicKey: new Uint8Array(ecdh.getPublicKey()) };
}

/** The implementation's holder of a card, from a fixed scalar (non-extractable, as on a device). */
export async function holderOf(recipient: Recipient, name: string): Promise<CardHolder> {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: b64(recipient.publicKey.subarray(1, 33)), y: b64(recipient.publicKey.subarray(33)) };
  const privateKey = await crypto.subtle.importKey('jwk', { ...jwk, d: b64(recipient.privateKey) }, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
  return { card: await keyCardOf(recipient.publicKey, name), keyPair: { privateKey, publicKey } };
}

export type CaseExpect<T> = { ok: T } | { error: string; problem?: string };

export interface KeyCardVector {
  description: string;
  suite: { mode: number; kem: number; kdf: number; aead: number; info: string; aad: string };
  recipient: { privateKey: string; publicKey: string; name: string; keyCard: string; fingerprint: string; keyId: string };
  ekm: string;
  recordId: string;
  recordKey: string;
  storageId: string;
  enc: string;
  ct: string;
  wrappedKey: string;
  shareText: string;
  cards: { description: string; input: string; expect: CaseExpect<{ publicKey: string; name: string; fingerprint: string }> }[];
  wrappedTexts: { description: string; input: string; expect: CaseExpect<{ recordId: string; recordKey: string; storageId: string | null; name: string }> }[];
}

function failure(error: unknown): { error: string; problem?: string } {
  if (!(error instanceof EhrVaultError)) throw error;
  const problem = (error.details as { problem?: unknown }).problem;
  return typeof problem === 'string' ? { error: error.code, problem } : { error: error.code };
}

/** What the implementation makes of a card text. */
export async function implementationCard(input: string): Promise<CaseExpect<{ publicKey: string; name: string; fingerprint: string }>> {
  try {
    const card = await decodeKeyCard(input);
    return { ok: { publicKey: toHex(card.publicKey), name: card.name, fingerprint: card.fingerprint } };
  } catch (error) {
    return failure(error);
  }
}

/** What the implementation makes of a wrapped share text, opened with `holder`'s card. */
export async function implementationOpen(input: string, holder: CardHolder): Promise<CaseExpect<{ recordId: string; recordKey: string; storageId: string | null; name: string }>> {
  try {
    const info = readShareText(input);
    if (!('wrapped' in info)) throw new Error('not a wrapped share text');
    const key = await unwrapRecordKey(info.wrapped, info.recordId, holder);
    return { ok: { recordId: info.recordId, recordKey: toHex(key), storageId: info.storageId ?? null, name: info.wrapped.name } };
  } catch (error) {
    return failure(error);
  }
}

function withPart(text: string, index: number, replace: (part: string) => string, separator = '.'): string {
  const parts = text.split(separator);
  parts[index] = replace(parts[index]!);
  return parts.join(separator);
}

function flipBase64Url(text: string, at: number): string {
  const bytes = Buffer.from(text, 'base64url');
  bytes[at]! ^= 0x01;
  return bytes.toString('base64url');
}

export async function buildKeyCardVector(): Promise<KeyCardVector> {
  const recipient = fixedRecipient('recipient key');
  const holder = await holderOf(recipient, RECIPIENT_NAME);
  const card: KeyCard = holder.card;
  const ekm = new Uint8Array(seed('ephemeral ikm'));
  const wrapped = await wrapRecordKey(card, RECORD_ID, RECORD_KEY, ekm);
  const link = encodeWrappedShareLink(APP, { recordId: RECORD_ID, wrapped, storageId: STORAGE_ID });
  const shareText = link.slice(link.indexOf('#') + 1);
  const wrappedKey = shareText.split(':')[2]!;
  const keyCard = encodeKeyCard(card);

  const other = fixedRecipient('another recipient key');
  const otherCard = await keyCardOf(other.publicKey, 'Dr Other');
  const toOther = encodeWrappedShareLink(APP, { recordId: RECORD_ID, wrapped: await wrapRecordKey(otherCard, RECORD_ID, RECORD_KEY, ekm) });
  const name = (n: string) => toBase64Url(new TextEncoder().encode(n));
  const cardKeyPart = keyCard.slice('ehrvc1.'.length).split('.')[0]!;

  const cardInputs: { description: string; input: string }[] = [
    { description: 'the card', input: keyCard },
    { description: 'the card link, with line breaks and spaces from a chat app', input: `https://vault.example/#${keyCard.slice(0, 40)}\n ${keyCard.slice(40)}` },
    { description: 'a key text, not a card', input: 'ehrvk1.AAECAwQFBgcICQoLDA0ODw8' },
    { description: 'no name part', input: `ehrvc1.${cardKeyPart}` },
    { description: 'a point that is not on P-256 (one bit of Y changed)', input: `ehrvc1.${flipBase64Url(cardKeyPart, 64)}.${name(RECIPIENT_NAME)}` },
    { description: 'a compressed point (33 bytes)', input: `ehrvc1.${toBase64Url(Uint8Array.of(0x02, ...recipient.publicKey.subarray(1, 33)))}.${name(RECIPIENT_NAME)}` },
    { description: 'a name with a right-to-left override (U+202E)', input: `ehrvc1.${cardKeyPart}.${name('Dr \u202EzeruR')}` },
    { description: 'a name not in NFC (n + combining tilde)', input: `ehrvc1.${cardKeyPart}.${name('Dr Nun\u0303ez')}` },
    { description: 'a name with two spaces in a row', input: `ehrvc1.${cardKeyPart}.${name('Dr  Ruiz')}` },
    { description: 'a name of 65 bytes', input: `ehrvc1.${cardKeyPart}.${name('D'.repeat(65))}` },
  ];
  const textInputs: { description: string; input: string }[] = [
    { description: 'the wrapped share text', input: shareText },
    { description: 'the whole link', input: link },
    { description: 'wrapped to another card: this recipient has the wrong key id', input: toOther },
    { description: 'one bit of ct changed', input: withPart(shareText, 2, (w) => withPart(w, 1, (b) => flipBase64Url(b, 104)), ':') },
    { description: 'one bit of enc changed (enc is then most likely not a point: damaged either way)', input: withPart(shareText, 2, (w) => withPart(w, 1, (b) => flipBase64Url(b, 40)), ':') },
    { description: 'the wrapped key moved to another record locator (the aad differs)', input: shareText.replace(RECORD_ID, toBase64Url(new Uint8Array(16))) },
    { description: 'the wrapped key cut short', input: withPart(shareText, 2, (w) => withPart(w, 1, (b) => b.slice(0, 100)), ':') },
  ];
  return {
    description: 'FORMAT.md §11.3: a key card and a share text wrapped to it by HPKE (RFC 9180) base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM',
    suite: { mode: 0, kem: 0x0010, kdf: 0x0001, aead: 0x0001, info: 'EHR Vault wrapped record key v1 (ehrvw1)', aad: `ehrv1:${RECORD_ID}` },
    recipient: { privateKey: toHex(recipient.privateKey), publicKey: toHex(recipient.publicKey), name: RECIPIENT_NAME, keyCard, fingerprint: card.fingerprint, keyId: toHex(card.keyId) },
    ekm: toHex(ekm),
    recordId: RECORD_ID,
    recordKey: toHex(RECORD_KEY),
    storageId: STORAGE_ID,
    enc: toHex(wrapped.enc),
    ct: toHex(wrapped.sealed),
    wrappedKey,
    shareText,
    cards: await Promise.all(cardInputs.map(async (c) => ({ ...c, expect: await implementationCard(c.input) }))),
    wrappedTexts: await Promise.all(textInputs.map(async (c) => ({ ...c, expect: await implementationOpen(c.input, holder) }))),
  };
}
