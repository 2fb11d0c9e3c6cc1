import { readShareText } from '../core/share-text.js';
import { allSealedExtras, deleteSealedExtras, getSealedExtras, putSealedExtras } from '../storage/record-extras-repository.js';
import { getVault } from './vault.js';
import type { RecordSummary } from './vault-types.js';

/** What a person added to a record on this device; sealed at rest under the vault key. */
export interface RecordExtras {
  readonly title: string;
  readonly notes: string;
  /** A small JPEG data URL made on this device from the record's image. */
  readonly thumbnail: string | null;
}

/** A record as the Records view lists it. */
export interface CatalogRecord extends RecordSummary {
  readonly extras: RecordExtras;
}

const EMPTY: RecordExtras = { title: '', notes: '', thumbnail: null };
/** Sealed under a name of their own, so a sealed extras blob can never pass for a record's metadata. */
const sealName = (recordId: string) => `extras:${recordId}`;

/**
 * A fragment cache left by an open that failed (wrong sequence key, damaged fragment) has no key and no
 * name: it is not a record a person has, so it is not listed ("ghost" records).
 */
function isGhost(r: RecordSummary): boolean {
  return !r.hasKey && r.sync.state === 'remote';
}

export async function listCatalog(): Promise<CatalogRecord[]> {
  const vault = await getVault();
  const [records, sealed] = await Promise.all([vault.listRecords(), allSealedExtras().catch(() => new Map())]);
  return Promise.all(
    records.filter((r) => !isGhost(r)).map(async (r) => {
      const s = sealed.get(r.recordId);
      let extras = EMPTY;
      if (s && vault.keys.unlocked) extras = await vault.keys.openJson<RecordExtras>(sealName(r.recordId), s).catch(() => EMPTY);
      return { ...r, extras };
    }),
  );
}

export async function recordExtras(recordId: string): Promise<RecordExtras> {
  const vault = await getVault();
  const sealed = await getSealedExtras(recordId);
  if (!sealed || !vault.keys.unlocked) return EMPTY;
  return vault.keys.openJson<RecordExtras>(sealName(recordId), sealed).catch(() => EMPTY);
}

/** Saves a title and notes (trimmed; a title of at most 120 characters, notes of at most 4,000). */
export async function saveRecordExtras(recordId: string, change: Partial<RecordExtras>): Promise<RecordExtras> {
  const vault = await getVault();
  const before = await recordExtras(recordId);
  const next: RecordExtras = {
    title: (change.title ?? before.title).trim().slice(0, 120),
    notes: (change.notes ?? before.notes).trim().slice(0, 4000),
    thumbnail: change.thumbnail !== undefined ? change.thumbnail : before.thumbnail,
  };
  await putSealedExtras(recordId, await vault.keys.sealJson(sealName(recordId), next));
  return next;
}

export async function forgetRecordExtras(recordId: string): Promise<void> {
  await deleteSealedExtras(recordId).catch(() => undefined);
}

/**
 * After an open of a shared record failed: the fragments fetched for it were cached without a key.
 * They are removed, so no "locked record" stays behind. A record this device already holds a key for
 * is left alone.
 */
export async function discardFailedOpen(shareText: string): Promise<void> {
  let recordId: string;
  try {
    recordId = readShareText(shareText).recordId;
  } catch {
    return;
  }
  const vault = await getVault();
  const summary = await vault.summary(recordId);
  if (summary && isGhost(summary)) await vault.deleteRecord(recordId, { fromCloud: false }).catch(() => undefined);
}
