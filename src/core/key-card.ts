import { Aes128Gcm, CipherSuite, DhkemP256HkdfSha256, HkdfSha256 } from '@hpke/core';
import { asBufferSource, concatBytes, constantTimeEqual, fromBase64Url, toBase64Url, toHex, utf8Decoder, utf8Encoder } from './bytes.js';
import { KeyCardInvalidError, SharedToAnotherCardError, WrappedKeyDamagedError } from './key-card-errors.js';
import { RECORD_KEY_LENGTH } from './keychain.js';

/**
 * Key cards (FORMAT.md §11.3): a doctor's public key with a display name, so a patient can share a record
 * to one person's device instead of to whoever holds a link. The record key is wrapped with HPKE (RFC 9180)
 * base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM — P-256 because every engine the app
 * supports (Safari 16.4 included) has it in WebCrypto, so the private key stays a non-extractable CryptoKey.
 */
export const KEY_CARD_PREFIX = 'ehrvc1.';
export const WRAPPED_KEY_PREFIX = 'ehrvw1.';
/** SEC1 uncompressed point: 0x04 ‖ X ‖ Y. */
export const PUBLIC_KEY_LENGTH = 65;
export const KEY_ID_LENGTH = 8;
const ENC_LENGTH = 65;
const SEALED_LENGTH = RECORD_KEY_LENGTH + 16;
export const WRAPPED_LENGTH = KEY_ID_LENGTH + ENC_LENGTH + SEALED_LENGTH;
export const MAX_NAME_BYTES = 64;
/** HPKE `info`: names the format, so a key wrapped here opens nowhere else (and nothing else opens as one). */
export const WRAP_INFO = 'EHR Vault wrapped record key v1 (ehrvw1)';

/** Characters a display name may not hold: controls, bidi and other format characters (they can make one name look like another), private use, unassigned, line breaks. */
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

export interface KeyCard {
  readonly publicKey: Uint8Array;
  readonly name: string;
  /** First 8 bytes of SHA-256(publicKey): names the card inside a wrapped link. */
  readonly keyId: Uint8Array;
  /** First 10 bytes of SHA-256(publicKey), 20 upper-case hex digits in groups of 4: compared by people. */
  readonly fingerprint: string;
}

/** What a wrapped share text carries instead of the key text. */
export interface WrappedKey {
  readonly keyId: Uint8Array;
  readonly enc: Uint8Array;
  readonly sealed: Uint8Array;
  /** The card's display name, so a device without that card can say whose it is. */
  readonly name: string;
}

let suiteInstance: CipherSuite | undefined;
function suite(): CipherSuite {
  suiteInstance ??= new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
  return suiteInstance;
}

/** Trimmed NFC, 1 to 64 UTF-8 bytes, none of FORBIDDEN_IN_NAME. Writers normalise; readers only accept the normal form. */
export function normaliseCardName(name: string): string {
  const normal = name.normalize('NFC').trim().replace(/\s+/gu, ' ');
  checkName(normal);
  return normal;
}

function checkName(name: string): void {
  const bytes = utf8Encoder.encode(name).length;
  if (bytes === 0 || bytes > MAX_NAME_BYTES) throw new KeyCardInvalidError('name', `A display name has 1 to ${MAX_NAME_BYTES} bytes (this one has ${bytes}).`);
  if (FORBIDDEN_IN_NAME.test(name)) throw new KeyCardInvalidError('name', 'A display name cannot hold control or invisible formatting characters.');
  if (name !== name.normalize('NFC') || name !== name.trim().replace(/\s+/gu, ' ')) throw new KeyCardInvalidError('name', 'The display name is not in its standard form.');
}

function decodeName(part: string): string {
  let name: string;
  try {
    name = utf8Decoder.decode(fromBase64Url(part));
  } catch {
    throw new KeyCardInvalidError('name', 'The display name in this key card is damaged.');
  }
  checkName(name);
  return name;
}

async function digest(publicKey: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', asBufferSource(publicKey)));
}

function groupFingerprint(hash: Uint8Array): string {
  return (toHex(hash.subarray(0, 10)).toUpperCase().match(/.{4}/gu) ?? []).join(' ');
}

/** Imports a public key, which also checks that the point is on P-256 (WebCrypto refuses others). */
async function importPublicKey(publicKey: Uint8Array): Promise<CryptoKey> {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || publicKey[0] !== 0x04) throw new KeyCardInvalidError('key', 'The key in this key card is incomplete or mistyped.');
  try {
    return await crypto.subtle.importKey('raw', asBufferSource(publicKey), { name: 'ECDH', namedCurve: 'P-256' }, true, []);
  } catch {
    throw new KeyCardInvalidError('key', 'The key in this key card is not a valid public key: it was mistyped or changed.');
  }
}

export async function keyCardOf(publicKey: Uint8Array, name: string): Promise<KeyCard> {
  await importPublicKey(publicKey);
  checkName(name);
  const hash = await digest(publicKey);
  return { publicKey: publicKey.slice(), name, keyId: hash.slice(0, KEY_ID_LENGTH), fingerprint: groupFingerprint(hash) };
}

/** `ehrvc1.` ‖ base64url(public key, 65 bytes) ‖ `.` ‖ base64url(UTF-8 name). */
export function encodeKeyCard(card: Pick<KeyCard, 'publicKey' | 'name'>): string {
  checkName(card.name);
  if (card.publicKey.length !== PUBLIC_KEY_LENGTH) throw new KeyCardInvalidError('key', 'A key card holds a 65-byte P-256 public key.');
  return `${KEY_CARD_PREFIX}${toBase64Url(card.publicKey)}.${toBase64Url(utf8Encoder.encode(card.name))}`;
}

/** The card as a link to this app: opening it offers to share a record to that card. */
export function encodeKeyCardLink(appUrl: string, card: Pick<KeyCard, 'publicKey' | 'name'>): string {
  const base = new URL(appUrl);
  base.hash = '';
  base.search = '';
  return `${base.href.replace(/#$/u, '')}#${encodeKeyCard(card)}`;
}

function clean(input: string): string {
  let text = input.replace(/[\p{White_Space}\u200B-\u200D\uFEFF]/gu, '').replace(/[,;]+$/u, '');
  const hash = text.indexOf('#');
  if (hash >= 0 && /^https?:\/\//iu.test(text)) text = text.slice(hash + 1);
  return text;
}

/** Reads a pasted or scanned key card (or its link); checks the key is a P-256 point. */
export async function decodeKeyCard(input: string): Promise<KeyCard> {
  const text = clean(input);
  if (!text.toLowerCase().startsWith(KEY_CARD_PREFIX)) throw new KeyCardInvalidError('prefix', `This is not a key card: it should start with "${KEY_CARD_PREFIX}".`);
  const parts = text.slice(KEY_CARD_PREFIX.length).split('.');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new KeyCardInvalidError('shape', 'This key card is incomplete: it has a key and a name, separated by a dot.');
  let publicKey: Uint8Array;
  try {
    publicKey = fromBase64Url(parts[0]!);
  } catch {
    throw new KeyCardInvalidError('key', 'The key in this key card is incomplete or mistyped.');
  }
  return keyCardOf(publicKey, decodeName(parts[1]!));
}

/** HPKE `aad`: the share text's own beginning, so a wrapped key cannot be moved to another record. */
function aadFor(recordId: string): Uint8Array {
  return utf8Encoder.encode(`ehrv1:${recordId}`);
}

/**
 * Wraps a record key to a card. `ekm` (the ephemeral key's input keying material, RFC 9180 DeriveKeyPair)
 * is for test vectors only; left out, the ephemeral key is fresh from the browser's generator.
 */
export async function wrapRecordKey(card: KeyCard, recordId: string, recordKey: Uint8Array, ekm?: Uint8Array): Promise<WrappedKey> {
  if (recordKey.length !== RECORD_KEY_LENGTH) throw new KeyCardInvalidError('key', 'A record key is 16 bytes.');
  const recipientPublicKey = await importPublicKey(card.publicKey);
  const sender = await suite().createSenderContext({ recipientPublicKey, info: asBufferSource(utf8Encoder.encode(WRAP_INFO)), ...(ekm ? { ekm: asBufferSource(ekm) } : {}) });
  const sealed = new Uint8Array(await sender.seal(asBufferSource(recordKey), asBufferSource(aadFor(recordId))));
  return { keyId: card.keyId.slice(), enc: new Uint8Array(sender.enc), sealed, name: card.name };
}

/** `ehrvw1.` ‖ base64url(key id 8 ‖ enc 65 ‖ sealed 32) ‖ `.` ‖ base64url(UTF-8 name). */
export function encodeWrappedKey(wrapped: WrappedKey): string {
  const bytes = concatBytes([wrapped.keyId, wrapped.enc, wrapped.sealed]);
  if (bytes.length !== WRAPPED_LENGTH) throw new KeyCardInvalidError('shape', 'A wrapped key is 105 bytes.');
  return `${WRAPPED_KEY_PREFIX}${toBase64Url(bytes)}.${toBase64Url(utf8Encoder.encode(wrapped.name))}`;
}

/** Reads the wrapped-key part of a share text; its errors are KEY_CARD_INVALID. */
export function decodeWrappedKey(text: string): WrappedKey {
  if (!text.toLowerCase().startsWith(WRAPPED_KEY_PREFIX)) throw new KeyCardInvalidError('prefix', `A wrapped key starts with "${WRAPPED_KEY_PREFIX}".`);
  const parts = text.slice(WRAPPED_KEY_PREFIX.length).split('.');
  if (parts.length !== 2) throw new KeyCardInvalidError('shape', 'The wrapped key in this link is incomplete.');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(parts[0]!);
  } catch {
    throw new KeyCardInvalidError('shape', 'The wrapped key in this link is incomplete or mistyped.');
  }
  if (bytes.length !== WRAPPED_LENGTH) throw new KeyCardInvalidError('shape', 'The wrapped key in this link is incomplete or mistyped.');
  return {
    keyId: bytes.slice(0, KEY_ID_LENGTH),
    enc: bytes.slice(KEY_ID_LENGTH, KEY_ID_LENGTH + ENC_LENGTH),
    sealed: bytes.slice(KEY_ID_LENGTH + ENC_LENGTH),
    name: decodeName(parts[1]!),
  };
}

/** This device's card: the public key and the non-extractable private key it belongs to. */
export interface CardHolder {
  readonly card: KeyCard;
  readonly keyPair: CryptoKeyPair;
}

/**
 * Opens a wrapped key with this device's card. No card, or another card: SHARED_TO_ANOTHER_CARD (with the
 * name the sender saw). The right card but a failing open: WRAPPED_KEY_DAMAGED.
 */
export async function unwrapRecordKey(wrapped: WrappedKey, recordId: string, holder: CardHolder | undefined): Promise<Uint8Array> {
  if (holder === undefined || !constantTimeEqual(holder.card.keyId, wrapped.keyId)) {
    throw new SharedToAnotherCardError(wrapped.name, holder ? { thisCard: holder.card.fingerprint } : {});
  }
  try {
    const recipient = await suite().createRecipientContext({ recipientKey: holder.keyPair, enc: asBufferSource(wrapped.enc), info: asBufferSource(utf8Encoder.encode(WRAP_INFO)) });
    const key = new Uint8Array(await recipient.open(asBufferSource(wrapped.sealed), asBufferSource(aadFor(recordId))));
    if (key.length !== RECORD_KEY_LENGTH) throw new Error('not a record key');
    return key;
  } catch (error) {
    throw new WrappedKeyDamagedError({ cause: error instanceof Error ? error.name : 'unknown' });
  }
}

/** A new key pair for this device's card: the private key can derive bits and never be exported. */
export async function generateCardKeyPair(): Promise<{ keyPair: CryptoKeyPair; publicKey: Uint8Array }> {
  const keyPair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
  return { keyPair, publicKey };
}
