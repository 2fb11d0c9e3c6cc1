import { chmod, open, rename } from 'node:fs/promises';
import { ioError } from './errors.js';
import type { ManifestRow } from './journal.js';

export const MANIFEST_COLUMNS: readonly (keyof ManifestRow)[] = ['input', 'name', 'recordId', 'shareText', 'sequenceKey', 'storedAs', 'type', 'reason', 'bytes', 'objects', 'protectedAt'];

function csvField(value: string | number): string {
  // Values are kept exactly (a sequence key may start with "=" or "-"); fields with separators are quoted.
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function manifestText(rows: readonly ManifestRow[], format: 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  return [MANIFEST_COLUMNS.join(','), ...rows.map((r) => MANIFEST_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n') + '\n';
}

/**
 * Writes the manifest (it holds the record keys: whoever reads it can find and check every record) with
 * permissions 0600, atomically: a temporary file in the same folder, flushed, then renamed over the old one.
 */
export async function writeManifest(path: string, rows: readonly ManifestRow[]): Promise<void> {
  const format = path.toLowerCase().endsWith('.json') ? 'json' : 'csv';
  const temp = `${path}.tmp-${process.pid}`;
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(manifestText(rows, format));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await chmod(path, 0o600);
  } catch (error) {
    throw ioError('OUTPUT_FAILED', path, error);
  }
}
