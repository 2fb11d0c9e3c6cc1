import { fromBase64Url } from './bytes.js';
import { ShareTextInvalidError } from './errors.js';
import { decodeKeyText, encodeKeyText, KEY_TEXT_PREFIX } from './key-text.js';
import { RECORD_ID_LENGTH } from './object-names.js';

/** What another device needs, besides the sequence key, to fetch and open a record. */
export interface ShareInfo {
  readonly recordId: string;
  readonly recordKey: Uint8Array;
}

export const SHARE_TEXT_PREFIX = 'ehrv1:';

/**
 * `ehrv1:` ‖ record id (22 base64url) ‖ `:` ‖ key text (FORMAT.md §11.1). The sequence key is never part of
 * it: the paper makes it the second factor, sent by another channel.
 */
export function encodeShareText(info: ShareInfo): string {
  return `${SHARE_TEXT_PREFIX}${info.recordId}:${encodeKeyText(info.recordKey)}`;
}

/** Accepts pasted text with line breaks or spaces anywhere, and a trailing period from a chat app. */
export function decodeShareText(input: string): ShareInfo {
  const text = input.replace(/[\p{White_Space}\u200B-\u200D\uFEFF]/gu, '').replace(/[.,;]+$/u, '');
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
  const keyText = colon < 0 ? '' : rest.slice(colon + 1);
  if (!keyText.toLowerCase().startsWith(KEY_TEXT_PREFIX)) throw new ShareTextInvalidError('key', 'The share text has no record key after the locator.');
  return { recordId, recordKey: decodeKeyText(keyText) };
}

