import { FragmentError, InputInvalidError, WrongRecordKeyError } from '../core/errors.js';
import { deriveLocatorKeys } from '../core/keychain.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes } from '../core/object-head.js';
import { fragmentObjectName } from '../core/object-names.js';
import { recordIdBytes } from '../core/open-objects.js';
import { throwIfAborted, type Progress } from '../core/progress.js';
import { SEQUENCE_KEY_MAX_LENGTH, SEQUENCE_KEY_MIN_LENGTH } from '../core/sequence-key.js';
import type { VaultDb } from '../storage/open-vault-db.js';
import { newOutboxEntry } from '../storage/outbox-transitions.js';
import { cacheFragments, getFragments, removeRecordAndQueueDeletes, saveNewRecord } from '../storage/record-repository.js';
import type { FragmentEntry, RecordEntry, SealedBytes } from '../storage/schema.js';
import { ensureRoomFor, type StorageManagerLike } from '../storage/storage-quota.js';
import type { ProtectResult } from '../workers/engine-api.js';
import { OUTBOX_CHANNEL_NAME } from './outbox-runner.js';
import { ServiceError } from './service-error.js';
import { sha256Base64 } from './sha256.js';
import type { TransferEngine } from './transfer-engine.js';

/** Tells the outbox runner (in this tab or another) that entries were queued. */
export function notifyOutbox(): void {
  if (typeof BroadcastChannel !== 'function') return;
  const channel = new BroadcastChannel(OUTBOX_CHANNEL_NAME);
  channel.postMessage('queued');
  channel.close();
}

function checkFragmentCount(n: number): void {
  if (!Number.isInteger(n) || n < SEQUENCE_KEY_MIN_LENGTH || n > SEQUENCE_KEY_MAX_LENGTH) {
    throw new InputInvalidError(`A record has ${SEQUENCE_KEY_MIN_LENGTH} to ${SEQUENCE_KEY_MAX_LENGTH} fragments.`, { n });
  }
}

/** The cloud names of a record's objects: HMAC(K_names, record id, slot), FORMAT.md §2.3. */
export async function fragmentObjectNames(recordKey: Uint8Array, recordId: string, n: number): Promise<string[]> {
  const keys = await deriveLocatorKeys(recordKey);
  return Promise.all(Array.from({ length: n }, (_, position) => fragmentObjectName(keys, recordId, position)));
}

export interface StoreRecordOptions {
  readonly db: VaultDb;
  readonly signal?: AbortSignal | undefined;
  /** Bytes hashed so far (digests are the slow part before the write). */
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Sealed by the key service, when there is one; the record key itself is never stored here. */
  readonly wrappedKey?: SealedBytes | null | undefined;
  readonly encryptedMetadata?: SealedBytes | null | undefined;
  readonly storage?: StorageManagerLike | undefined;
  /** Default: BroadcastChannel to the runner. Tests pass their own. */
  readonly notify?: (() => void) | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * Keeps a freshly protected record on this device and queues its upload: the catalog entry, every
 * fragment and one outbox entry per fragment, written in ONE transaction (all or nothing, so a full
 * disk or a closed tab never leaves a half-stored record). The record key is used only to derive
 * object names and is not stored (only `wrappedKey`, if the caller sealed it).
 */
export async function storeProtectedRecord(
  result: Pick<ProtectResult, 'objects' | 'envelopeLength'>,
  recordId: string,
  recordKey: Uint8Array,
  options: StoreRecordOptions,
): Promise<RecordEntry> {
  const { signal } = options;
  const n = result.objects.length;
  checkFragmentCount(n);
  throwIfAborted(signal);
  const names = await fragmentObjectNames(recordKey, recordId, n);
  const sizes = result.objects.map((f) => f.blob.size);
  const total = sizes.reduce((a, b) => a + b, 0);

  // Digests before the transaction: nothing but IndexedDB may be awaited inside one. The engine hashed
  // each fragment as it produced it; only a result without one (an older caller) is read again here, one
  // fragment at a time so that at most one fragment's bytes are in memory.
  const digests: string[] = [];
  let hashed = 0;
  for (const fragment of result.objects) {
    throwIfAborted(signal);
    digests.push(fragment.sha256 ?? (await sha256Base64(fragment.blob)));
    hashed += fragment.blob.size;
    options.onProgress?.({ done: hashed, total });
  }
  throwIfAborted(signal);

  // No persistence request here: in Firefox persist() opens a prompt and its promise waits for the answer,
  // so awaiting it held the first protect at 'store' for as long as nobody answered. The app asks after a
  // record is stored, when a person can see why (protect view), and storing never depends on the answer.
  await ensureRoomFor(total, options.storage);

  const now = (options.now ?? Date.now)();
  const record: RecordEntry = {
    recordId,
    createdAt: now,
    fragmentCount: n,
    envelopeLength: result.envelopeLength,
    fragmentSizes: sizes,
    totalBytes: total,
    sync: { state: 'local', uploaded: 0, updatedAt: now, lastError: null },
    wrappedKey: options.wrappedKey ?? null,
    encryptedMetadata: options.encryptedMetadata ?? null,
  };
  const fragments: FragmentEntry[] = result.objects.map((f, position) => ({
    recordId,
    position,
    objectName: names[position]!,
    size: f.blob.size,
    sha256: digests[position]!,
    blob: f.blob,
    uploadedAt: null,
  }));
  const outbox = fragments.map((f) => newOutboxEntry(recordId, f.position, f.objectName, 'put', now));
  await saveNewRecord(options.db, { record, fragments, outbox });
  (options.notify ?? notifyOutbox)();
  return record;
}

export interface FetchFragmentsOptions {
  readonly db: VaultDb;
  /** Needed only when some fragment is not cached; built lazily so a fully cached record needs no network. */
  readonly engine?: (() => Promise<TransferEngine>) | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Fragments ready, out of n. */
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Keep downloaded fragments on this device (default true). */
  readonly cache?: boolean | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * Checks a downloaded object's head with the record key alone (FORMAT.md §4.1): it must be an object of
 * this record, stored under the name of its own slot. The rest (frames, payloads) is checked when the
 * record is opened; this catches a wrong, swapped or foreign object early, and names it.
 */
async function checkDownloaded(head: CryptoKey, recordId: Uint8Array, blob: Blob, position: number, n: number | undefined): Promise<number> {
  const bytes = new Uint8Array(await blob.slice(0, HEAD_LENGTH).arrayBuffer());
  const fields = await openHeadBytes(head, recordId, bytes);
  if (!fields) {
    throw new FragmentError('FRAGMENT_FOREIGN', `The object stored for fragment #${position + 1} does not belong to this record.`, 'Check the share text; if it is right, the stored copy was damaged or replaced.', { sources: [position], position });
  }
  const decoded = decodeHeadFields(fields, position);
  if (decoded.slot !== position || (n !== undefined && decoded.n !== n)) {
    throw new FragmentError('FRAGMENT_FOREIGN', `The object stored for fragment #${position + 1} holds fragment #${decoded.slot + 1} of ${decoded.n}.`, 'The stored objects may have been swapped; download the record again or ask the sender to share it again.', {
      sources: [position],
      position,
      found: decoded.slot,
      n: decoded.n,
    });
  }
  return decoded.n;
}

/**
 * The n fragment Blobs of a record, by position: from this device's cache where possible, otherwise
 * downloaded under their derived object names (verified against the catalog's SHA-256 and size when
 * this device stored them, and structurally always), then cached. The record key is used only to
 * derive names; if cached names disagree with it, it is the wrong key for this record.
 */
export async function fetchFragments(recordId: string, recordKey: Uint8Array, knownCount: number | undefined, options: FetchFragmentsOptions): Promise<Blob[]> {
  const { db, signal } = options;
  throwIfAborted(signal);
  const locator = await deriveLocatorKeys(recordKey);
  const id = recordIdBytes(recordId);
  // A recipient does not know n: object 0's head says it (FORMAT.md §2.1), so it is fetched first.
  const n = knownCount ?? (await countFromFirstObject(recordId, recordKey, locator.head, id, options));
  checkFragmentCount(n);
  const [names, rows] = await Promise.all([fragmentObjectNames(recordKey, recordId, n), getFragments(db, recordId)]);
  const byPosition = new Map(rows.map((row) => [row.position, row]));
  for (const row of rows) {
    if (row.position < n && row.objectName !== names[row.position]) {
      throw new WrongRecordKeyError('The record key does not match this record.', { recordId });
    }
  }
  const blobs: (Blob | undefined)[] = Array.from({ length: n }, (_, i) => byPosition.get(i)?.blob ?? undefined);
  const missing = blobs.flatMap((blob, position) => (blob ? [] : [position]));
  const ready = n - missing.length;
  options.onProgress?.({ done: ready, total: n });
  if (missing.length === 0) return blobs as Blob[];

  if (!options.engine) {
    throw new ServiceError('FRAGMENT_UNAVAILABLE', `${missing.length} fragment(s) of this record are not on this device.`, { recordId, missing });
  }
  const engine = await options.engine();
  throwIfAborted(signal);
  const downloaded = await engine.download(
    missing.map((position) => {
      const row = byPosition.get(position);
      return { name: names[position]!, sha256: row?.sha256 ?? null, size: row?.size ?? null };
    }),
    {
      signal,
      onProgress: (p) => options.onProgress?.({ done: ready + p.completed, total: n }),
    },
  );
  await Promise.all(downloaded.map((blob, i) => checkDownloaded(locator.head, id, blob, missing[i]!, n)));
  missing.forEach((position, i) => (blobs[position] = downloaded[i]));

  if (options.cache ?? true) {
    const now = (options.now ?? Date.now)();
    // One at a time: a record can be hundreds of MiB, and each digest reads its fragment whole.
    const digests: string[] = [];
    for (const [i, blob] of downloaded.entries()) digests.push(byPosition.get(missing[i]!)?.sha256 ?? (await sha256Base64(blob)));
    const entries: FragmentEntry[] = missing.map((position, i) => ({
      recordId,
      position,
      objectName: names[position]!,
      size: downloaded[i]!.size,
      sha256: digests[i]!,
      blob: downloaded[i]!,
      uploadedAt: now,
    }));
    const sizes = (blobs as Blob[]).map((b) => b.size);
    const remoteRecord: RecordEntry = {
      recordId,
      createdAt: now,
      fragmentCount: n,
      envelopeLength: null,
      fragmentSizes: sizes,
      totalBytes: sizes.reduce((a, b) => a + b, 0),
      sync: { state: 'remote', uploaded: n, updatedAt: now, lastError: null },
      wrappedKey: null,
      encryptedMetadata: null,
    };
    await cacheFragments(db, remoteRecord, entries);
  }
  return blobs as Blob[];
}

/** n from the head of object 0, from this device's cache or the cloud. */
async function countFromFirstObject(recordId: string, recordKey: Uint8Array, head: CryptoKey, id: Uint8Array, options: FetchFragmentsOptions): Promise<number> {
  const cached = (await getFragments(options.db, recordId)).find((row) => row.position === 0 && row.blob);
  if (cached?.blob) return checkDownloaded(head, id, cached.blob, 0, undefined);
  if (!options.engine) throw new ServiceError('FRAGMENT_UNAVAILABLE', 'The fragments of this record are not on this device.', { recordId, missing: [0] });
  const [name] = await fragmentObjectNames(recordKey, recordId, 1);
  const engine = await options.engine();
  const [blob] = await engine.download([{ name: name!, sha256: null, size: null }], { signal: options.signal });
  return checkDownloaded(head, id, blob!, 0, undefined);
}

export interface DeleteRecordOptions {
  readonly db: VaultDb;
  readonly notify?: (() => void) | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * Removes a record from this device and queues the deletion of its fragments from the cloud (the
 * outbox runner carries it out, also after a reload). Returns the number of deletions queued.
 */
export async function deleteRecord(recordId: string, options: DeleteRecordOptions): Promise<number> {
  const now = (options.now ?? Date.now)();
  const count = await removeRecordAndQueueDeletes(options.db, recordId, now, (fragment) => newOutboxEntry(recordId, fragment.position, fragment.objectName, 'delete', now));
  (options.notify ?? notifyOutbox)();
  return count;
}
