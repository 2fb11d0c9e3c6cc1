/** Shared helpers for the storage tests (not a test file). Import after 'fake-indexeddb/auto'. */
import { openVaultDb, type VaultDb } from '../../../src/storage/open-vault-db.js';
import { newOutboxEntry } from '../../../src/storage/outbox-transitions.js';
import type { NewRecord } from '../../../src/storage/record-repository.js';
import type { FragmentEntry, RecordEntry } from '../../../src/storage/schema.js';

let counter = 0;

/** A database of its own per test: fake-indexeddb is one global factory. */
export function uniqueName(prefix = 'test'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2)}`;
}

export async function freshDb(): Promise<VaultDb> {
  return openVaultDb({ name: uniqueName('vault') });
}

export function recordIdFor(seed: number): string {
  // 16 bytes → 22 base64url characters; distinct per seed.
  return Buffer.alloc(16, seed).toString('base64url');
}

/** A record of n fragments with recognisable bytes, as storeProtectedRecord would build it. */
export function sampleRecord(recordId: string, n = 8, now = 1_000): NewRecord {
  const fragments: FragmentEntry[] = Array.from({ length: n }, (_, position) => ({
    recordId,
    position,
    indexChar: 'adk21937xyzABCDEFGHIJ'[position] ?? String.fromCodePoint(0x4e00 + position),
    objectName: `${recordId.toLowerCase().replace(/[^a-z0-9]/g, '')}${String(position).padStart(4, '0')}`.padEnd(32, 'q').slice(0, 32),
    size: 100 + position,
    sha256: null,
    blob: new Blob([new Uint8Array(100 + position).fill(position)]),
    uploadedAt: null,
  }));
  const record: RecordEntry = {
    recordId,
    createdAt: now,
    fragmentCount: n,
    envelopeLength: fragments.reduce((a, f) => a + f.size, 0) - n * 48,
    fragmentSizes: fragments.map((f) => f.size),
    totalBytes: fragments.reduce((a, f) => a + f.size, 0),
    sync: { state: 'local', uploaded: 0, updatedAt: now, lastError: null },
    wrappedKey: null,
    encryptedMetadata: null,
  };
  const outbox = fragments.map((f) => newOutboxEntry(recordId, f.position, f.objectName, 'put', now));
  return { record, fragments, outbox };
}

export async function countAll(db: VaultDb): Promise<{ records: number; fragments: number; outbox: number }> {
  const [records, fragments, outbox] = await Promise.all([db.count('records'), db.count('fragments'), db.count('outbox')]);
  return { records, fragments, outbox };
}
