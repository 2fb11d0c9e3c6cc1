import type { CatalogRecord } from '../../services/record-catalog.js';

export type RecordSort = 'newest' | 'oldest' | 'name' | 'size';
export type KindFilter = 'all' | 'image' | 'file';
export type SyncFilter = 'all' | 'cloud' | 'device' | 'failed';

export interface RecordQuery {
  readonly search: string;
  readonly sort: RecordSort;
  readonly kind: KindFilter;
  readonly sync: SyncFilter;
}

export const DEFAULT_QUERY: RecordQuery = { search: '', sort: 'newest', kind: 'all', sync: 'all' };

/** The name a person sees: their own title, else the file name. */
export function displayName(r: CatalogRecord): string {
  return r.extras.title || r.name || 'Locked record';
}

function size(r: CatalogRecord): number {
  return r.byteLength ?? r.totalBytes;
}

function syncGroup(r: CatalogRecord): SyncFilter {
  if (r.sync.state === 'synced' || r.sync.state === 'remote') return 'cloud';
  if (r.sync.state === 'failed') return 'failed';
  return 'device';
}

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Search (every word, in title, name, notes or type; case and accents ignored), filter, then sort. */
export function queryRecords(records: readonly CatalogRecord[], query: RecordQuery): CatalogRecord[] {
  const words = query.search.trim().normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().split(/\s+/u).filter(Boolean);
  const matches = records.filter((r) => {
    if (query.kind !== 'all' && r.kind !== query.kind) return false;
    if (query.sync !== 'all' && syncGroup(r) !== query.sync) return false;
    if (words.length === 0) return true;
    const haystack = [r.extras.title, r.name ?? '', r.extras.notes, r.mime ?? ''].join(' ').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
  const by: Record<RecordSort, (a: CatalogRecord, b: CatalogRecord) => number> = {
    newest: (a, b) => b.createdAt - a.createdAt,
    oldest: (a, b) => a.createdAt - b.createdAt,
    name: (a, b) => collator.compare(displayName(a), displayName(b)) || b.createdAt - a.createdAt,
    size: (a, b) => size(b) - size(a) || b.createdAt - a.createdAt,
  };
  return matches.sort(by[query.sort]);
}
