import { describe, expect, it } from 'vitest';
import { queryRecords, DEFAULT_QUERY } from '../../../src/ui/controllers/record-query.js';
import type { CatalogRecord } from '../../../src/services/record-catalog.js';

function record(name: string, createdAt: number, extra: Partial<CatalogRecord> = {}): CatalogRecord {
  return {
    recordId: name,
    name,
    kind: name.endsWith('.jpg') ? 'image' : 'file',
    mime: name.endsWith('.jpg') ? 'image/jpeg' : 'application/pdf',
    byteLength: createdAt * 10,
    image: null,
    createdAt,
    fragmentCount: 8,
    parityCount: 0,
    totalBytes: 0,
    sync: { state: 'synced', uploaded: 8, error: null },
    hasKey: true,
    sharedWithMe: false,
    extras: { title: '', notes: '', thumbnail: null },
    ...extra,
  };
}

const list = [
  record('knee-xray.jpg', 3),
  record('Blood test März.pdf', 1, { sync: { state: 'failed', uploaded: 2, error: null } }),
  record('scan-2.pdf', 2, { extras: { title: 'Échographie', notes: 'Dr. Weber, left side', thumbnail: null } }),
];
const names = (rs: CatalogRecord[]) => rs.map((r) => r.name);

describe('queryRecords', () => {
  it('lists newest first by default', () => {
    expect(names(queryRecords(list, DEFAULT_QUERY))).toEqual(['knee-xray.jpg', 'scan-2.pdf', 'Blood test März.pdf']);
  });

  it('searches a partial name, a title, notes, ignoring case and accents, every word', () => {
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, search: 'XRA' }))).toEqual(['knee-xray.jpg']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, search: 'echo' }))).toEqual(['scan-2.pdf']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, search: 'marz blood' }))).toEqual(['Blood test März.pdf']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, search: 'weber knee' }))).toEqual([]);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, search: '  ' }))).toHaveLength(3);
  });

  it('sorts by name (the title when there is one), oldest, and size', () => {
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, sort: 'name' }))).toEqual(['Blood test März.pdf', 'scan-2.pdf', 'knee-xray.jpg']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, sort: 'oldest' }))).toEqual(['Blood test März.pdf', 'scan-2.pdf', 'knee-xray.jpg']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, sort: 'size' }))).toEqual(['knee-xray.jpg', 'scan-2.pdf', 'Blood test März.pdf']);
  });

  it('filters by kind and by sync state', () => {
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, kind: 'image' }))).toEqual(['knee-xray.jpg']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, sync: 'failed' }))).toEqual(['Blood test März.pdf']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, sync: 'cloud', kind: 'file' }))).toEqual(['scan-2.pdf']);
    expect(names(queryRecords(list, { ...DEFAULT_QUERY, sync: 'device' }))).toEqual([]);
  });

  it('does not reorder the caller’s array', () => {
    const copy = [...list];
    queryRecords(list, { ...DEFAULT_QUERY, sort: 'name' });
    expect(list).toEqual(copy);
  });
});
