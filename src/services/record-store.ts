import { FragmentError, InputInvalidError, WrongRecordKeyError } from '../core/errors.js';
import { deriveLocatorKeys } from '../core/keychain.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes, type HeadFields } from '../core/object-head.js';
import { fragmentObjectName } from '../core/object-names.js';
import { recordIdBytes } from '../core/open-objects.js';
import { throwIfAborted, type Progress } from '../core/progress.js';
import { SEQUENCE_KEY_MAX_LENGTH, SEQUENCE_KEY_MIN_LENGTH } from '../core/sequence-key.js';
import type { VaultDb } from '../storage/open-vault-db.js';
import { newOutboxEntry } from '../storage/outbox-transitions.js';
import { cacheFragments, getFragments, getRecord, removeRecordAndQueueDeletes, saveNewRecord } from '../storage/record-repository.js';
import { providerOfRecordSlot, type FragmentEntry, type RecordEntry, type SealedBytes } from '../storage/schema.js';
import { ensureRoomFor, type StorageManagerLike } from '../storage/storage-quota.js';
import type { ProtectResult } from '../workers/engine-api.js';
import { OUTBOX_CHANNEL_NAME } from './outbox-runner.js';
import { isAbort, isConnectivityError, ServiceError } from './service-error.js';
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
  /**
   * The storage connections to spread the objects over, in placement order (slot j goes to
   * providers[j mod k], core/placement.ts). Default: the primary connection alone.
   */
  readonly providers?: readonly string[] | undefined;
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
  throwIfAborted(signal);
  // n and p are in every head (FORMAT.md §4.1): the objects say how many of them are parity.
  const locator = await deriveLocatorKeys(recordKey);
  const first = result.objects[0];
  if (!first) throw new InputInvalidError('A protected record has objects.', { recordId });
  const layout = await checkDownloaded(locator.head, recordIdBytes(recordId), first.blob, 0, undefined);
  const n = layout.n;
  if (result.objects.length !== n + layout.p) throw new InputInvalidError('A protected record comes with all of its n + p objects.', { recordId, n, p: layout.p, objects: result.objects.length });
  checkFragmentCount(n);
  const names = await fragmentObjectNames(recordKey, recordId, n + layout.p);
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
    parityCount: layout.p,
    ...(options.providers && options.providers.length > 1 ? { providers: [...options.providers] } : {}),
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
  const outbox = fragments.map((f) => newOutboxEntry(recordId, f.position, f.objectName, 'put', now, providerOfRecordSlot(record, f.position)));
  await saveNewRecord(options.db, { record, fragments, outbox });
  (options.notify ?? notifyOutbox)();
  return record;
}

export interface FetchFragmentsOptions {
  readonly db: VaultDb;
  /**
   * The transfer engine that reaches the object of `slot` (several storage providers: each slot lives
   * with one of them, placement.ts). Needed only when some object is not cached; built lazily so a fully
   * cached record needs no network. Callers should return the same engine for the same provider.
   */
  readonly engine?: ((slot: number) => Promise<TransferEngine>) | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Objects ready, out of the n needed. */
  readonly onProgress?: ((progress: Progress) => void) | undefined;
  /** Keep downloaded objects on this device (default true). */
  readonly cache?: boolean | undefined;
  /**
   * `any-n` (default): the data objects first, parity objects only in place of missing or damaged ones,
   * so an intact record costs no extra download. `all`: every object that can be had (used after the
   * open found damage that only the extra objects let the engine locate and repair, FORMAT.md §9).
   */
  readonly want?: 'any-n' | 'all' | undefined;
  readonly now?: (() => number) | undefined;
}

/** What is known of a record's layout: n data objects and p parity objects (FORMAT.md §4). */
export interface RecordLayout {
  readonly n: number;
  readonly p: number;
}

/** Why an object of a record could not be used. */
export interface UnusableObject {
  readonly slot: number;
  readonly objectName: string;
  /** The error code that ruled it out (FRAGMENT_NOT_IN_CLOUD, CHECKSUM_MISMATCH, FRAGMENT_FOREIGN, a network code…). */
  readonly reason: string;
}

/** The objects a record opens from: at least n good ones, by slot, and what was ruled out on the way. */
export interface FetchedObjects {
  readonly layout: RecordLayout;
  /** Good objects in slot order (blobs[i] is the object of slots[i]). */
  readonly slots: readonly number[];
  readonly blobs: readonly Blob[];
  readonly unusable: readonly UnusableObject[];
  /** True when every one of the n + p objects was tried. */
  readonly complete: boolean;
}

/**
 * Checks an object's head with the record key alone (FORMAT.md §4.1): it must be an object of this
 * record, stored under the name of its own slot. The rest (frames, payloads) is checked when the
 * record is opened; this catches a wrong, swapped or foreign object early, and names it.
 */
async function checkDownloaded(head: CryptoKey, recordId: Uint8Array, blob: Blob, position: number, layout: RecordLayout | undefined): Promise<RecordLayout> {
  const bytes = new Uint8Array(await blob.slice(0, HEAD_LENGTH).arrayBuffer());
  const fields = await openHeadBytes(head, recordId, bytes);
  if (!fields) {
    throw new FragmentError('FRAGMENT_FOREIGN', `The object stored for slot #${position + 1} does not belong to this record.`, 'Check the share text; if it is right, the stored copy was damaged or replaced.', { sources: [position], position });
  }
  const decoded = decodeHeadFields(fields, position);
  if (decoded.slot !== position || (layout !== undefined && (decoded.n !== layout.n || decoded.parityCount !== layout.p))) {
    throw new FragmentError('FRAGMENT_FOREIGN', `The object stored for slot #${position + 1} holds object #${decoded.slot + 1} of ${decoded.n + decoded.parityCount}.`, 'The stored objects may have been swapped; download the record again or ask the sender to share it again.', {
      sources: [position],
      position,
      found: decoded.slot,
      n: decoded.n,
    });
  }
  return { n: decoded.n, p: decoded.parityCount };
}

/**
 * The authenticated head of an object of this record cached on this device (FORMAT.md §4.1), without any
 * request; undefined when no cached object's head opens with the record key. Its KDF parameters, batch
 * salt and sequence-key check let the open view run Argon2id and check the typed key before Open
 * (vault.ts `warmOpen`).
 */
export async function cachedRecordHead(db: VaultDb, recordId: string, recordKey: Uint8Array): Promise<HeadFields | undefined> {
  const head = (await deriveLocatorKeys(recordKey)).head;
  const id = recordIdBytes(recordId);
  for (const row of await getFragments(db, recordId)) {
    if (!row.blob) continue;
    const fields = await openHeadBytes(head, id, new Uint8Array(await row.blob.slice(0, HEAD_LENGTH).arrayBuffer()));
    if (!fields) continue;
    try {
      return decodeHeadFields(fields, row.position);
    } catch {
      // A damaged cached copy: the next one may do.
    }
  }
  return undefined;
}

function codeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'UNKNOWN';
}

/**
 * The objects of a record, fetched to open it: from this device's cache where possible, otherwise
 * downloaded under their derived object names (verified against the catalog's SHA-256 and size when
 * this device stored them, and by their head always), then cached. Missing or damaged objects are
 * replaced by others, up to p of them (FORMAT.md §4.4); beyond that a RECORD_UNRECOVERABLE error names
 * every slot that could not be had, and why. The record key is used only to derive names and check
 * heads; if cached names disagree with it, it is the wrong key for this record.
 */
export async function fetchRecordObjects(recordId: string, recordKey: Uint8Array, known: RecordLayout | undefined, options: FetchFragmentsOptions): Promise<FetchedObjects> {
  const { db, signal } = options;
  throwIfAborted(signal);
  const locator = await deriveLocatorKeys(recordKey);
  const id = recordIdBytes(recordId);
  const unusable: UnusableObject[] = [];
  // A recipient does not know n and p: the first head it can read says them (FORMAT.md §2.1).
  const layout = known ?? (await layoutFromFirstObject(recordId, recordKey, locator.head, id, options, unusable));
  checkFragmentCount(layout.n);
  const total = layout.n + layout.p;
  const [names, rows] = await Promise.all([fragmentObjectNames(recordKey, recordId, total), getFragments(db, recordId)]);
  const byPosition = new Map(rows.map((row) => [row.position, row]));
  for (const row of rows) {
    if (row.position < total && row.objectName !== names[row.position]) {
      throw new WrongRecordKeyError('The record key does not match this record.', { recordId });
    }
  }
  const good = new Map<number, Blob>();
  for (const [slot, row] of byPosition) if (row.blob && slot < total) good.set(slot, row.blob);
  // Slots ruled out while learning the layout are not tried again.
  const tried = new Set(unusable.map((u) => u.slot));
  const untried = () => Array.from({ length: total }, (_, slot) => slot).filter((slot) => !good.has(slot) && !tried.has(slot));
  const needed = () => (options.want === 'all' ? untried().length : layout.n - good.size);
  options.onProgress?.({ done: Math.min(good.size, layout.n), total: layout.n });
  const downloaded = new Map<number, Blob>();
  let firstError: unknown;
  // Lowest slots first: data objects need no rebuilding; each round replaces what the last one lost.
  while (needed() > 0) {
    const next = untried().slice(0, needed());
    if (next.length === 0) break;
    if (!options.engine) {
      throw new ServiceError('FRAGMENT_UNAVAILABLE', `${layout.n - good.size} object(s) of this record are not on this device.`, { recordId, missing: next });
    }
    next.forEach((slot) => tried.add(slot));
    // A provider that cannot even be reached for its configuration makes its objects unusable, not the open.
    const engines = await Promise.all(next.map((slot) => options.engine!(slot).then((engine) => ({ engine }), (error: unknown) => ({ error }))));
    throwIfAborted(signal);
    // One batch per engine (provider): each presigns its own objects.
    const groups = new Map<TransferEngine, number[]>();
    next.forEach((slot, i) => {
      const built = engines[i]!;
      if ('error' in built) {
        if (isAbort(built.error)) throw built.error;
        firstError ??= built.error;
        unusable.push({ slot, objectName: names[slot]!, reason: codeOf(built.error) });
        return;
      }
      groups.set(built.engine, [...(groups.get(built.engine) ?? []), slot]);
    });
    await Promise.all(
      [...groups].map(async ([engine, slots]) => {
        const outcomes = await engine.downloadEach(
          slots.map((slot) => {
            const row = byPosition.get(slot);
            return { name: names[slot]!, sha256: row?.sha256 ?? null, size: row?.size ?? null };
          }),
          { signal },
        );
        for (const [i, outcome] of outcomes.entries()) {
          const slot = slots[i]!;
          let error: unknown = outcome.ok ? undefined : outcome.error;
          if (outcome.ok) {
            try {
              await checkDownloaded(locator.head, id, outcome.value, slot, layout);
              good.set(slot, outcome.value);
              downloaded.set(slot, outcome.value);
              options.onProgress?.({ done: Math.min(good.size, layout.n), total: layout.n });
            } catch (e) {
              error = e;
            }
          }
          if (error !== undefined) {
            if (isAbort(error)) throw error;
            firstError ??= error;
            unusable.push({ slot, objectName: names[slot]!, reason: codeOf(error) });
          }
        }
      }),
    );
  }
  throwIfAborted(signal);
  if (good.size < layout.n) {
    // Nothing at all came back and the network is the reason: that is "offline", not a lost record.
    if (good.size === 0 && firstError !== undefined && isConnectivityError(firstError)) throw firstError;
    // Nothing of the record is there (withdrawn, never uploaded, wrong share text): say that, not "damaged".
    if (good.size === 0 && unusable.every((u) => u.reason === 'FRAGMENT_NOT_IN_CLOUD')) throw firstError;
    // A record without parity (the paper's scheme, or stored before issue 17) fails on its first bad object, named.
    if (layout.p === 0 && firstError !== undefined) throw firstError;
    const missing = Array.from({ length: total }, (_, slot) => slot).filter((slot) => !good.has(slot));
    const listed = missing.map((slot) => `#${slot + 1}`).join(', ');
    throw new ServiceError(
      'RECORD_UNRECOVERABLE',
      `Only ${good.size} of this record's ${total} objects could be had; ${layout.n} are needed. Missing or damaged: ${listed}.`,
      { recordId, n: layout.n, p: layout.p, good: good.size, missingSlots: missing, unusable: [...unusable].sort((a, b) => a.slot - b.slot) },
      { retryable: unusable.some((u) => u.reason.startsWith('NETWORK_') || u.reason === 'PRESIGN_UNAVAILABLE'), cause: firstError },
    );
  }

  if ((options.cache ?? true) && downloaded.size > 0) {
    const now = (options.now ?? Date.now)();
    // One at a time: a record can be hundreds of MiB, and each digest reads its object whole.
    const entries: FragmentEntry[] = [];
    for (const [slot, blob] of downloaded) {
      entries.push({ recordId, position: slot, objectName: names[slot]!, size: blob.size, sha256: byPosition.get(slot)?.sha256 ?? (await sha256Base64(blob)), blob, uploadedAt: now });
    }
    const size = [...good.values()][0]!.size;
    const remoteRecord: RecordEntry = {
      recordId,
      createdAt: now,
      fragmentCount: layout.n,
      parityCount: layout.p,
      envelopeLength: null,
      fragmentSizes: Array.from({ length: total }, () => size),
      totalBytes: size * total,
      sync: { state: 'remote', uploaded: total, updatedAt: now, lastError: null },
      wrappedKey: null,
      encryptedMetadata: null,
    };
    await cacheFragments(db, remoteRecord, entries);
  }
  const slots = [...good.keys()].sort((a, b) => a - b);
  return { layout, slots, blobs: slots.map((slot) => good.get(slot)!), unusable, complete: untried().length === 0 };
}

/** Errors of an open that more objects may cure: a damaged or missing object, not a wrong key. */
export function isRepairableDamage(error: unknown): boolean {
  const code = codeOf(error);
  return (code.startsWith('FRAGMENT_') || code.startsWith('CHAIN_') || code.startsWith('ENVELOPE_')) && code !== 'FRAGMENT_UNSUPPORTED';
}

/**
 * Fetches what a record needs and opens it with `open` (the engine Worker in the app, core/record.ts in
 * Node). Damage inside an object that its head does not show (a recipient has no SHA-256 to compare) is
 * located and repaired by the reader only with more than n objects (FORMAT.md §9): so when an open from
 * n objects fails that way, every remaining object is fetched and the open tried once more.
 */
export async function fetchAndOpen<T>(recordId: string, recordKey: Uint8Array, known: RecordLayout | undefined, options: FetchFragmentsOptions, open: (objects: readonly Blob[]) => Promise<T>): Promise<{ opened: T; fetched: FetchedObjects }> {
  let fetched = await fetchRecordObjects(recordId, recordKey, known, options);
  try {
    return { opened: await open(fetched.blobs), fetched };
  } catch (error) {
    if (!isRepairableDamage(error) || fetched.layout.p === 0) throw error;
    if (!fetched.complete) fetched = await fetchRecordObjects(recordId, recordKey, fetched.layout, { ...options, want: 'all' });
    try {
      return { opened: await open(fetched.blobs), fetched };
    } catch (again) {
      if (!isRepairableDamage(again) || fetched.unusable.length === 0) throw again;
      // Damage the reader found (it names objects by their place in the list it was given) together
      // with what could not be fetched is more than p: name all of it.
      const sources = (again as { details?: { sources?: unknown } }).details?.sources;
      const blamed = Array.isArray(sources) ? sources.filter((i): i is number => typeof i === 'number').map((i) => fetched.slots[i]).filter((s): s is number => s !== undefined) : [];
      const missing = [...new Set(fetched.unusable.map((u) => u.slot))].sort((a, b) => a - b);
      // The reader blames the objects around the damage (a broken chain names both ends): suspects, not certainties.
      const damaged = [...new Set(blamed)].filter((slot) => !missing.includes(slot)).sort((a, b) => a - b);
      const { n, p } = fetched.layout;
      const list = (slots: readonly number[]) => slots.map((slot) => `#${slot + 1}`).join(', ');
      throw new ServiceError(
        'RECORD_UNRECOVERABLE',
        `Objects ${list(missing)} of this record are missing${damaged.length > 0 ? ` and the others hold damage (around ${list(damaged)})` : ' and another is damaged'}: with ${n} fragments and ${p} parity objects, at most ${p} may be lost.`,
        { recordId, n, p, missingSlots: missing, damagedSlots: damaged, unusable: fetched.unusable, readerError: codeOf(again) },
        { retryable: false, cause: again },
      );
    }
  }
}

/**
 * The Blobs a record opens from (any n or more of its n + p objects, in slot order): see
 * `fetchRecordObjects`. `known`: the layout, or n alone for records stored before parity (p = 0).
 */
export async function fetchFragments(recordId: string, recordKey: Uint8Array, known: RecordLayout | number | undefined, options: FetchFragmentsOptions): Promise<Blob[]> {
  const layout = typeof known === 'number' ? { n: known, p: 0 } : known;
  return [...(await fetchRecordObjects(recordId, recordKey, layout, options)).blobs];
}

/**
 * n and p from the first object whose head opens, from this device's cache or the cloud. Slots 0 … 7
 * always exist (n ≥ 8), so with up to p of them lost one of the first p + 1 still says the layout.
 */
async function layoutFromFirstObject(recordId: string, recordKey: Uint8Array, head: CryptoKey, id: Uint8Array, options: FetchFragmentsOptions, unusable: UnusableObject[]): Promise<RecordLayout> {
  const cached = (await getFragments(options.db, recordId)).filter((row) => row.blob);
  for (const row of cached) {
    try {
      return await checkDownloaded(head, id, row.blob!, row.position, undefined);
    } catch {
      // A damaged cached copy: try the next one, or the cloud.
    }
  }
  if (!options.engine) throw new ServiceError('FRAGMENT_UNAVAILABLE', 'The objects of this record are not on this device.', { recordId, missing: [0] });
  const names = await fragmentObjectNames(recordKey, recordId, SEQUENCE_KEY_MIN_LENGTH);
  let firstError: unknown;
  for (const [slot, name] of names.entries()) {
    const engine = await options.engine(slot);
    const [outcome] = await engine.downloadEach([{ name, sha256: null, size: null }], { signal: options.signal });
    try {
      if (!outcome!.ok) throw outcome!.error;
      return await checkDownloaded(head, id, outcome!.value, slot, undefined);
    } catch (error) {
      if (isAbort(error)) throw error;
      firstError ??= error;
      unusable.push({ slot, objectName: name, reason: codeOf(error) });
    }
  }
  throw firstError;
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
  // Each object is deleted where it lives (its record's placement over storage connections).
  const record = await getRecord(options.db, recordId);
  const count = await removeRecordAndQueueDeletes(options.db, recordId, now, (fragment) => newOutboxEntry(recordId, fragment.position, fragment.objectName, 'delete', now, providerOfRecordSlot(record, fragment.position)));
  (options.notify ?? notifyOutbox)();
  return count;
}
