/** Human sizes in the units phones use (base 1000 would surprise nobody either; we say KiB-like KB). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** One formatter for every date: building an Intl formatter per call is what made long lists slow. */
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(ms: number): string {
  return dateFormat.format(ms);
}

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** The day only (lists); the full date and time go in a tooltip. */
export function formatDay(ms: number): string {
  return dayFormat.format(ms);
}

const CHANNEL_WORDS: Record<string, string> = { GRAY: 'grey', RGB: 'RGB', RGBA: 'RGBA' };

/** "4032 × 3024 · 8-bit RGB" (and "· 3 frames"): an image record's true pixel size (FORMAT.md §6.1). */
export function formatPixels(image: { readonly width: number; readonly height: number; readonly pixelFormat: string; readonly frames?: number | undefined }): string {
  const match = /^([A-Z]+?)(8|16)$/.exec(image.pixelFormat);
  const format = match ? `${match[2]}-bit ${CHANNEL_WORDS[match[1]!] ?? match[1]}` : image.pixelFormat;
  const frames = (image.frames ?? 1) > 1 ? ` · ${image.frames} frames` : '';
  return `${image.width} × ${image.height} · ${format}${frames}`;
}
