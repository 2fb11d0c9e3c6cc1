/**
 * Downloads built from record contents must never become a page in the app's origin: a record's
 * description (name, MIME type) is written by whoever made the record, so a `blob:` URL typed from it
 * (text/html, image/svg+xml, text/xml, …) would run the sender's script with the app's storage when
 * opened in a tab. Everything offered for saving is therefore typed application/octet-stream, which a
 * browser only ever downloads, under a file name with no path or control characters.
 */
export const INERT_TYPE = 'application/octet-stream';

/** The same bytes, typed so that no browser renders them (slice shares the bytes; nothing is copied). */
export function inertBlob(blob: Blob): Blob {
  return blob.slice(0, blob.size, INERT_TYPE);
}

/**
 * A file name safe to suggest: no directory parts, control or bidi-override characters, not
 * only dots, at most 120 characters (the extension kept when it can be).
 */
export function safeFileName(name: string, fallback = 'record'): string {
  let clean = name
    .normalize('NFC')
    // Path separators, controls, bidi overrides and isolates (the browser cleans the rest for its platform).
    .replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069/\\]/gu, '_')
    .trim()
    .replace(/^\.+/, '');
  if (clean.length > 120) {
    const dot = clean.lastIndexOf('.');
    const extension = dot > 0 && clean.length - dot <= 16 ? clean.slice(dot) : '';
    clean = Array.from(clean.slice(0, clean.length - extension.length)).slice(0, 120 - extension.length).join('') + extension;
  }
  return clean === '' || /^[._ ]+$/.test(clean) ? fallback : clean;
}

/** A `blob:` URL for saving `blob` as `name`; the caller revokes it. */
export function inertObjectUrl(blob: Blob): string {
  return URL.createObjectURL(inertBlob(blob));
}

/** Saves `blob` as a download named `name` (never navigated to). */
export function saveAs(blob: Blob, name: string): void {
  const url = inertObjectUrl(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = safeFileName(name);
  a.rel = 'noopener';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
