/**
 * Reference READER of key cards and wrapped share texts (docs/FORMAT.md §11.3), written from the spec and
 * RFC 9180 alone, not from src/: HPKE base-mode opening is done here by hand with `node:crypto` (ECDH on
 * prime256v1, HMAC-SHA-256 for HKDF, AES-128-GCM), where the app uses @hpke/core over WebCrypto.
 */
import { createDecipheriv, createECDH, createHash, createHmac } from 'node:crypto';

export class RefKeyCardError extends Error {
  constructor(readonly code: 'KEY_CARD_INVALID' | 'SHARED_TO_ANOTHER_CARD' | 'WRAPPED_KEY_DAMAGED' | 'SHARE_TEXT_INVALID', readonly problem?: string) {
    super(problem ? `${code} (${problem})` : code);
  }
}

const INFO = Buffer.from('EHR Vault wrapped record key v1 (ehrvw1)', 'ascii');
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

/** RFC 4648 §5, unpadded, canonical (unused bits zero). */
function base64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** §11.3 name rules; `N` must already be in normal form. */
function readName(part: string): string {
  const bytes = base64url(part);
  if (bytes === undefined) throw new RefKeyCardError('KEY_CARD_INVALID', 'name');
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new RefKeyCardError('KEY_CARD_INVALID', 'name');
  }
  const ok = bytes.length >= 1 && bytes.length <= 64 && !FORBIDDEN.test(name) && name === name.normalize('NFC') && name === name.trim() && !name.includes('  ') && !/[^\S ]/u.test(name);
  if (!ok) throw new RefKeyCardError('KEY_CARD_INVALID', 'name');
  return name;
}

/** A point off the curve makes ECDH fail (Node validates the peer's point). */
function onCurve(point: Buffer): boolean {
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    ecdh.computeSecret(point);
    return true;
  } catch {
    return false;
  }
}

function stripSpaces(input: string): string {
  let text = input.replace(/[\p{White_Space}\u200B-\u200D\uFEFF]/gu, '');
  if (/^https?:\/\//iu.test(text) && text.includes('#')) text = text.slice(text.indexOf('#') + 1);
  return text;
}

export interface RefKeyCard {
  publicKey: Buffer;
  name: string;
  fingerprint: string;
  keyId: Buffer;
}

/** §11.3 key card reader. */
export function readKeyCard(input: string): RefKeyCard {
  const text = stripSpaces(input).replace(/[,;]+$/u, '');
  if (text.slice(0, 7).toLowerCase() !== 'ehrvc1.') throw new RefKeyCardError('KEY_CARD_INVALID', 'prefix');
  const parts = text.slice(7).split('.');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new RefKeyCardError('KEY_CARD_INVALID', 'shape');
  const publicKey = base64url(parts[0]!);
  if (publicKey === undefined || publicKey.length !== 65 || publicKey[0] !== 4 || !onCurve(publicKey)) throw new RefKeyCardError('KEY_CARD_INVALID', 'key');
  const name = readName(parts[1]!);
  const h = createHash('sha256').update(publicKey).digest();
  return { publicKey, name, fingerprint: h.subarray(0, 10).toString('hex').toUpperCase().match(/.{4}/g)!.join(' '), keyId: h.subarray(0, 8) };
}

// ─────────────────────────────── RFC 9180, base mode, suite (0x0010, 0x0001, 0x0001) ───────────────────────────────

const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
const extract = (salt: Buffer, ikm: Buffer) => hmac(salt.length === 0 ? Buffer.alloc(32) : salt, ikm);
function expand(prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    t = hmac(prk, Buffer.concat([t, info, Buffer.from([i])]));
    out.push(t);
  }
  return Buffer.concat(out).subarray(0, length);
}
const i2osp = (value: number, length: number) => {
  const b = Buffer.alloc(length);
  b.writeUIntBE(value, 0, length);
  return b;
};
const labeledExtract = (suiteId: Buffer, salt: Buffer, label: string, ikm: Buffer) => extract(salt, Buffer.concat([Buffer.from('HPKE-v1'), suiteId, Buffer.from(label), ikm]));
const labeledExpand = (suiteId: Buffer, prk: Buffer, label: string, info: Buffer, length: number) =>
  expand(prk, Buffer.concat([i2osp(length, 2), Buffer.from('HPKE-v1'), suiteId, Buffer.from(label), info]), length);

const KEM_ID = Buffer.concat([Buffer.from('KEM'), i2osp(0x0010, 2)]);
const HPKE_ID = Buffer.concat([Buffer.from('HPKE'), i2osp(0x0010, 2), i2osp(0x0001, 2), i2osp(0x0001, 2)]);

/** RFC 9180 §4.1 Decap for DHKEM(P-256, HKDF-SHA256). */
function decap(enc: Buffer, skR: Buffer, pkR: Buffer): Buffer {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(skR);
  const dh = ecdh.computeSecret(enc);
  const eaePrk = labeledExtract(KEM_ID, Buffer.alloc(0), 'eae_prk', dh);
  return labeledExpand(KEM_ID, eaePrk, 'shared_secret', Buffer.concat([enc, pkR]), 32);
}

/** RFC 9180 §5.1 KeySchedule (mode_base) and §5.2 Open of the first message. */
function openBase(enc: Buffer, skR: Buffer, pkR: Buffer, aad: Buffer, ct: Buffer): Buffer {
  const shared = decap(enc, skR, pkR);
  const context = Buffer.concat([Buffer.from([0]), labeledExtract(HPKE_ID, Buffer.alloc(0), 'psk_id_hash', Buffer.alloc(0)), labeledExtract(HPKE_ID, Buffer.alloc(0), 'info_hash', INFO)]);
  const secret = labeledExtract(HPKE_ID, shared, 'secret', Buffer.alloc(0));
  const key = labeledExpand(HPKE_ID, secret, 'key', context, 16);
  const nonce = labeledExpand(HPKE_ID, secret, 'base_nonce', context, 12);
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]);
}

export interface RefOpened {
  recordId: string;
  recordKey: Buffer;
  storageId: string | undefined;
  name: string;
}

/** §11.3 reader of a wrapped share text, with the recipient's private scalar `skR` (32 bytes). */
export function openWrappedShareText(input: string, skR: Buffer | undefined): RefOpened {
  const text = stripSpaces(input).replace(/[.,;]+$/u, '');
  if (text.slice(0, 6).toLowerCase() !== 'ehrv1:') throw new RefKeyCardError('SHARE_TEXT_INVALID', 'prefix');
  const [recordId, keyText, storageId, ...extra] = text.slice(6).split(':');
  if (recordId === undefined || base64url(recordId)?.length !== 16 || recordId.length !== 22) throw new RefKeyCardError('SHARE_TEXT_INVALID', 'locator');
  if (extra.length > 0 || (storageId !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(storageId))) throw new RefKeyCardError('SHARE_TEXT_INVALID', 'storage');
  if (keyText === undefined || keyText.slice(0, 7).toLowerCase() !== 'ehrvw1.') throw new RefKeyCardError('SHARE_TEXT_INVALID', 'key');
  const parts = keyText.slice(7).split('.');
  const w = parts.length === 2 ? base64url(parts[0]!) : undefined;
  if (w === undefined || w.length !== 105) throw new RefKeyCardError('KEY_CARD_INVALID', 'shape');
  const name = readName(parts[1]!);
  if (skR === undefined) throw new RefKeyCardError('SHARED_TO_ANOTHER_CARD');
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(skR);
  const pkR = ecdh.getPublicKey();
  if (!createHash('sha256').update(pkR).digest().subarray(0, 8).equals(w.subarray(0, 8))) throw new RefKeyCardError('SHARED_TO_ANOTHER_CARD');
  let recordKey: Buffer;
  try {
    recordKey = openBase(w.subarray(8, 73), skR, pkR, Buffer.from(`ehrv1:${recordId}`, 'ascii'), w.subarray(73));
  } catch {
    throw new RefKeyCardError('WRAPPED_KEY_DAMAGED');
  }
  if (recordKey.length !== 16) throw new RefKeyCardError('WRAPPED_KEY_DAMAGED');
  return { recordId, recordKey, storageId, name };
}
