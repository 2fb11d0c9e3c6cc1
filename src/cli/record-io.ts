import { open as openFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FragmentError } from '../core/errors.js';
import { deriveLocatorKeys, type LocatorKeys } from '../core/keychain.js';
import type { KdfParams } from '../core/kdf.js';
import { decodeHeadFields, HEAD_LENGTH, openHeadBytes } from '../core/object-head.js';
import { fragmentObjectName } from '../core/object-names.js';
import { inspectObjects, recordIdBytes } from '../core/open-objects.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import type { ShareInfo } from '../core/share-text.js';
import { ioError } from './errors.js';
import type { ObjectStore } from './storage.js';

/** The objects of one record as gathered from a store or a folder, with where each came from. */
export interface GatheredObjects {
  readonly objects: Uint8Array[];
  /** Object name (store) or file path (folder), one per object. */
  readonly labels: string[];
  /** Files of the folder that are not objects of this record (another record's, or a damaged head). */
  readonly ignored: string[];
}

/** n + p is at most 64 + 64 (FORMAT.md §4.1): every name a record can have. */
const MAX_SLOTS = 128;
/** Every record has at least 8 data objects. */
const MIN_SLOTS = 8;

export async function objectNames(info: ShareInfo, locator?: LocatorKeys, count = MAX_SLOTS): Promise<string[]> {
  const keys = locator ?? (await deriveLocatorKeys(info.recordKey));
  return Promise.all(Array.from({ length: count }, (_, j) => fragmentObjectName(keys, info.recordId, j)));
}

async function slotCount(locator: LocatorKeys, recordId: Uint8Array, objects: readonly (Uint8Array | undefined)[]): Promise<number | undefined> {
  for (const [source, bytes] of objects.entries()) {
    if (!bytes) continue;
    const head = await openHeadBytes(locator.head, recordId, bytes.subarray(0, HEAD_LENGTH));
    if (!head) continue;
    try {
      const fields = decodeHeadFields(head, source);
      return fields.n + fields.parityCount;
    } catch {
      /* judged later by the reader, with the format's error precedence */
    }
  }
  return undefined;
}

/**
 * Fetches a record's objects by name (FORMAT.md §2.3). The object count is learnt from the first head that
 * authenticates among slots 0–7 (every record has them); a name the store does not hold is simply absent,
 * and the reader then reports FRAGMENT_MISSING with the positions.
 */
export async function fetchFromStore(store: ObjectStore, info: ShareInfo): Promise<GatheredObjects> {
  const locator = await deriveLocatorKeys(info.recordKey);
  const id = recordIdBytes(info.recordId);
  const names = await objectNames(info, locator);
  const first = await store.getMany(names.slice(0, MIN_SLOTS));
  let total = await slotCount(locator, id, first);
  let rest: (Uint8Array | undefined)[];
  if (total === undefined) {
    rest = await store.getMany(names.slice(MIN_SLOTS));
    total = MAX_SLOTS;
  } else {
    rest = await store.getMany(names.slice(MIN_SLOTS, Math.max(MIN_SLOTS, total)));
  }
  const all = [...first, ...rest];
  const objects: Uint8Array[] = [];
  const labels: string[] = [];
  for (const [j, bytes] of all.entries()) {
    if (!bytes) continue;
    objects.push(bytes);
    labels.push(names[j]!);
  }
  return { objects, labels, ignored: [] };
}

async function listFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch (error) {
    throw ioError('INPUT_UNREADABLE', dir, error);
  }
  const files: string[] = [];
  for (const entry of entries.sort()) {
    const path = join(dir, entry);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) files.push(path);
  }
  return files;
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await openFile(path, 'r');
  try {
    const head = new Uint8Array(HEAD_LENGTH);
    const { bytesRead } = await handle.read(head, 0, HEAD_LENGTH, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a folder of downloaded objects under any file names, in any order (FORMAT.md §9 takes objects in
 * any order): a file is used when its head authenticates under this record's key; the others are listed
 * as ignored (objects of other records look exactly like damaged ones to a holder of one key).
 */
export async function readFromFolder(dir: string, info: ShareInfo): Promise<GatheredObjects> {
  const locator = await deriveLocatorKeys(info.recordKey);
  const id = recordIdBytes(info.recordId);
  const objects: Uint8Array[] = [];
  const labels: string[] = [];
  const ignored: string[] = [];
  for (const path of await listFiles(dir)) {
    let head: Uint8Array;
    try {
      head = await readHead(path);
    } catch (error) {
      throw ioError('INPUT_UNREADABLE', path, error);
    }
    if (!(await openHeadBytes(locator.head, id, head))) {
      ignored.push(path);
      continue;
    }
    try {
      objects.push(new Uint8Array(await readFile(path)));
    } catch (error) {
      throw ioError('INPUT_UNREADABLE', path, error);
    }
    labels.push(path);
  }
  return { objects, labels, ignored };
}

export interface HeadReport {
  readonly n: number;
  readonly parityObjects: number;
  readonly objectLength: number;
  readonly kdf: KdfParams;
  readonly objects: number;
}

/** Any valid key: `inspectObjects` only reads the key's characters for an empty list, handled before. */
const PLACEHOLDER_KEY = parseSequenceKey('abcdefgh');

/**
 * What a holder of the record key alone can check (FORMAT.md §2.1, §9 steps 2–8): every head authentic and
 * consistent, every object of the right length, and every data slot 0 … n − 1 present. Needs no sequence key
 * and decrypts nothing.
 */
export async function verifyHeads(info: ShareInfo, objects: readonly Uint8Array[]): Promise<HeadReport> {
  if (objects.length === 0) throw new FragmentError('FRAGMENT_MISSING', 'No object of this record was found.', 'Check the storage, token or folder; the record may have been deleted.', { positions: [] });
  const { head, bySlot } = await inspectObjects(
    info.recordKey,
    recordIdBytes(info.recordId),
    PLACEHOLDER_KEY,
    objects.map((o) => o.length),
    async (source, start, end) => objects[source]!.subarray(start, end),
  );
  const missing = Array.from({ length: head.n }, (_, slot) => slot).filter((slot) => !bySlot.has(slot));
  if (missing.length > 0) {
    throw new FragmentError('FRAGMENT_MISSING', `${missing.length} of ${head.n} objects ${missing.length === 1 ? 'is' : 'are'} missing (positions ${missing.join(', ')}).`, 'Download the record again, or restore the missing objects from a backup; every data object is needed.', { positions: missing });
  }
  return { n: head.n, parityObjects: head.parityCount, objectLength: HEAD_LENGTH + head.bodyLength, kdf: head.kdf, objects: objects.length };
}
