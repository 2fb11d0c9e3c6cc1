import { fromBase64Url } from './bytes.js';
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
}

/** Storage ids are opaque to the app: 16 to 128 base64url characters. */
const STORAGE_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export const SHARE_TEXT_PREFIX = 'ehrv1:';

/**
 * `ehrv1:` ‖ record id (22 base64url) ‖ `:` ‖ key text (FORMAT.md §11.1). The sequence key is never part of
 * it: the paper makes it the second factor, sent by another channel.
 */
export function encodeShareText(info: ShareInfo): string {
  if (info.storageId !== undefined && !STORAGE_ID_PATTERN.test(info.storageId)) throw new ShareTextInvalidError('storage', 'A storage id is 16 to 128 base64url characters.');
  return `${SHARE_TEXT_PREFIX}${info.recordId}:${encodeKeyText(info.recordKey)}${info.storageId !== undefined ? `:${info.storageId}` : ''}`;
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
}

export function encodeWrappedShareLink(appUrl: string, info: WrappedShareInfo): string {
  if (info.storageId !== undefined && !STORAGE_ID_PATTERN.test(info.storageId)) throw new ShareTextInvalidError('storage', 'A storage id is 16 to 128 base64url characters.');
  const base = new URL(appUrl);
  base.hash = '';
  base.search = '';
  return `${base.href.replace(/#$/u, '')}#${SHARE_TEXT_PREFIX}${info.recordId}:${encodeWrappedKey(info.wrapped)}${info.storageId !== undefined ? `:${info.storageId}` : ''}`;
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
  // The key first, then the storage id: the order FORMAT.md §11.1–§11.3 reads them in.
  const wrapped = keyText.toLowerCase().startsWith(WRAPPED_KEY_PREFIX) ? decodeWrappedKey(keyText) : undefined;
  if (wrapped === undefined && !keyText.toLowerCase().startsWith(KEY_TEXT_PREFIX)) throw new ShareTextInvalidError('key', 'The share text has no record key after the locator.');
  const recordKey = wrapped === undefined ? decodeKeyText(keyText) : undefined;
  const storageId = storageColon < 0 ? undefined : after.slice(storageColon + 1);
  if (storageId !== undefined && !STORAGE_ID_PATTERN.test(storageId)) throw new ShareTextInvalidError('storage', 'The storage part at the end of this share link is incomplete or mistyped.');
  if (wrapped !== undefined) return storageId === undefined ? { recordId, wrapped } : { recordId, wrapped, storageId };
  return storageId === undefined ? { recordId, recordKey: recordKey! } : { recordId, recordKey: recordKey!, storageId };
}

