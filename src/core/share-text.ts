import { fromBase64Url, toBase64Url, utf8Decoder, utf8Encoder } from './bytes.js';
import { ShareTextInvalidError } from './errors.js';
import { decodeWrappedKey, encodeWrappedKey, WRAPPED_KEY_PREFIX, type WrappedKey } from './key-card.js';
import { decodeKeyText, encodeKeyText, KEY_TEXT_PREFIX } from './key-text.js';
import { RECORD_ID_LENGTH } from './object-names.js';

/** What another device needs, besides the sequence key, to fetch and open a record. */
export interface ShareInfo {
  readonly recordId: string;
  readonly recordKey: Uint8Array;
  /**
   * The owner's storage, by the opaque id its presign service gave (FORMAT.md §11.2): lets a person with
   * another account, or none, fetch the record's objects read-only. Absent in a share text for the owner's
   * own devices.
   */
  readonly storageId?: string | undefined;
  /**
   * Several storage providers (FORMAT.md §11.4, issue 17): every provider that holds objects of the record,
   * in placement order (slot j lives with providers[j mod k]). The first one's `origin` is absent (the
   * link's own app); the others name the origin of their presign service. `storageId` is providers[0]'s.
   */
  readonly providers?: readonly SharedProvider[] | undefined;
}

/** One storage provider a recipient reads from: its owner's storage id, at the origin of its presign service. */
export interface SharedProvider {
  readonly storageId: string;
  /** `https://host[:port]` (http only for localhost); absent for the app's own server. */
  readonly origin?: string | undefined;
}

/** Storage ids are opaque to the app: 16 to 128 base64url characters. */
const STORAGE_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export const SHARE_TEXT_PREFIX = 'ehrv1:';

/**
 * `ehrv1:` ‖ record id (22 base64url) ‖ `:` ‖ key text (FORMAT.md §11.1). The sequence key is never part of
 * it: the paper makes it the second factor, sent by another channel.
 */
export function encodeShareText(info: ShareInfo): string {
  return `${SHARE_TEXT_PREFIX}${info.recordId}:${encodeKeyText(info.recordKey)}${encodeStoragePart(info)}`;
}

/** `:` ‖ the storage part (§11.2, §11.4), or nothing without a storage id. */
function encodeStoragePart(info: { readonly storageId?: string | undefined; readonly providers?: readonly SharedProvider[] | undefined }): string {
  const providers = info.providers ?? (info.storageId !== undefined ? [{ storageId: info.storageId }] : []);
  for (const p of providers) {
    if (!STORAGE_ID_PATTERN.test(p.storageId)) throw new ShareTextInvalidError('storage', 'A storage id is 16 to 128 base64url characters.');
    if (p.origin !== undefined && checkOrigin(p.origin) === undefined) throw new ShareTextInvalidError('storage', 'A storage provider\'s origin is https://host[:port] (http only for localhost).');
  }
  // §11.4: provider = storage id [ "." base64url(origin) ], providers joined by ",". One provider without
  // an origin is exactly the §11.2 form, so such links read the same in older versions.
  const storage = providers.map((p) => (p.origin !== undefined ? `${p.storageId}.${toBase64Url(utf8Encoder.encode(p.origin))}` : p.storageId)).join(',');
  return storage !== '' ? `:${storage}` : '';
}

/** The origin of an absolute http(s) URL, as `new URL(…).origin` gives it; undefined when not acceptable. */
function checkOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) return undefined;
  return url.origin === text ? text : undefined;
}

/**
 * A share link (FORMAT.md §11.2): the app's address, then `#` and the share text. Browsers never send the
 * part after `#` to any server, so the record key stays between the two people.
 */
export function encodeShareLink(appUrl: string, info: ShareInfo): string {
  const base = new URL(appUrl);
  base.hash = '';
  base.search = '';
  return `${base.href.replace(/#$/u, '')}#${encodeShareText(info)}`;
}

/**
 * A share text wrapped to a key card (FORMAT.md §11.3): the record key is replaced by a wrapped key that
 * only the device holding that card can open.
 */
export interface WrappedShareInfo {
  readonly recordId: string;
  readonly wrapped: WrappedKey;
  readonly storageId?: string | undefined;
  /** Several storage providers (FORMAT.md §11.4), as in `ShareInfo`. */
  readonly providers?: readonly SharedProvider[] | undefined;
}

export function encodeWrappedShareLink(appUrl: string, info: WrappedShareInfo): string {
  const base = new URL(appUrl);
  base.hash = '';
  base.search = '';
  return `${base.href.replace(/#$/u, '')}#${SHARE_TEXT_PREFIX}${info.recordId}:${encodeWrappedKey(info.wrapped)}${encodeStoragePart(info)}`;
}

/** Either kind of share text: with the record key, or with a key wrapped to a card (told apart by `wrapped`). */
export function readShareText(input: string): ShareInfo | WrappedShareInfo {
  return parse(input);
}

/** Accepts pasted text with line breaks or spaces anywhere, and a trailing period from a chat app. */
export function decodeShareText(input: string): ShareInfo {
  const info = parse(input);
  if ('wrapped' in info) throw new ShareTextInvalidError('key', `This link was shared to ${info.wrapped.name}'s key card: it opens only on the device that holds that card.`);
  return info;
}

function parse(input: string): ShareInfo | WrappedShareInfo {
  let text = input.replace(/[\p{White_Space}\u200B-\u200D\uFEFF]/gu, '').replace(/[.,;]+$/u, '');
  // A whole share link pasted: the share text is what follows `#`.
  const hash = text.indexOf('#');
  if (hash >= 0 && /^https?:\/\//iu.test(text)) text = text.slice(hash + 1);
  if (!text.toLowerCase().startsWith(SHARE_TEXT_PREFIX)) {
    throw new ShareTextInvalidError('prefix', `This is not an EHR Vault share text: it should start with "${SHARE_TEXT_PREFIX}".`);
  }
  const rest = text.slice(SHARE_TEXT_PREFIX.length);
  const colon = rest.indexOf(':');
  const recordId = colon < 0 ? rest : rest.slice(0, colon);
  let id: Uint8Array | undefined;
  try {
    id = fromBase64Url(recordId);
  } catch {
    id = undefined;
  }
  if (!id || id.length !== RECORD_ID_LENGTH || recordId.length !== 22) {
    throw new ShareTextInvalidError('locator', 'The record locator in this share text is incomplete or mistyped.');
  }
  const after = colon < 0 ? '' : rest.slice(colon + 1);
  const storageColon = after.indexOf(':');
  const keyText = storageColon < 0 ? after : after.slice(0, storageColon);
  // The key first, then the storage part: the order FORMAT.md §11.1–§11.4 reads them in.
  const wrapped = keyText.toLowerCase().startsWith(WRAPPED_KEY_PREFIX) ? decodeWrappedKey(keyText) : undefined;
  if (wrapped === undefined && !keyText.toLowerCase().startsWith(KEY_TEXT_PREFIX)) throw new ShareTextInvalidError('key', 'The share text has no record key after the locator.');
  const recordKey = wrapped === undefined ? decodeKeyText(keyText) : undefined;
  const storage = storageColon < 0 ? {} : decodeStoragePart(after.slice(storageColon + 1));
  if (wrapped !== undefined) return { recordId, wrapped, ...storage };
  return { recordId, recordKey: recordKey!, ...storage };
}

/**
 * §11.2 and §11.4: one storage id (the link's own app), or providers `storage id [. base64url(origin)]`
 * joined by ",". A single provider without an origin comes back as `storageId` alone.
 */
function decodeStoragePart(storage: string): { storageId: string; providers?: readonly SharedProvider[] } {
  const bad = () => new ShareTextInvalidError('storage', 'The storage part at the end of this share link is incomplete or mistyped.');
  const providers = storage.split(',').map((part, i): SharedProvider => {
    const dot = part.indexOf('.');
    const storageId = dot < 0 ? part : part.slice(0, dot);
    if (!STORAGE_ID_PATTERN.test(storageId)) throw bad();
    if (dot < 0) {
      // Only the first provider may be the link's own app (§11.4).
      if (i > 0) throw bad();
      return { storageId };
    }
    let origin: string | undefined;
    try {
      origin = checkOrigin(utf8Decoder.decode(fromBase64Url(part.slice(dot + 1))));
    } catch {
      origin = undefined;
    }
    if (origin === undefined) throw bad();
    return { storageId, origin };
  });
  const storageId = providers[0]!.storageId;
  if (providers.length === 1 && providers[0]!.origin === undefined) return { storageId };
  return { storageId, providers };
}

