import { repairRecord } from '../core/parity.js';
import { recordIdBytes } from '../core/open-objects.js';
import { throwIfAborted } from '../core/progress.js';
import type { VaultDb } from '../storage/open-vault-db.js';
import { getFragments, getRecord, listRecords, replaceFragments, setRecordHealth } from '../storage/record-repository.js';
import { objectCount, providerOfRecordSlot, type FragmentEntry, type RecordEntry, type RecordHealth } from '../storage/schema.js';
import { fragmentObjectNames } from './record-store.js';
import { isAbort, isConnectivityError, ServiceError } from './service-error.js';
import { sha256Base64 } from './sha256.js';
import type { TransferEngine } from './transfer-engine.js';

/** The transfer engine of one storage connection (the vault caches one per provider). */
export type ProviderEngines = (provider: string) => Promise<TransferEngine>;

export interface CheckOptions {
  readonly db: VaultDb;
  readonly engines: ProviderEngines;
  /**
   * Also GET every present object and compare its SHA-256 with the catalog's (finds damage inside an
   * object; costs a download of the record). HEAD alone finds lost and truncated objects.
   */
  readonly deep?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly now?: (() => number) | undefined;
}

function stateOf(record: RecordEntry, broken: number, unreachable: number): RecordHealth['state'] {
  if (broken + unreachable === 0) return 'healthy';
  return broken + unreachable <= (record.parityCount ?? 0) ? 'degraded' : 'unrecoverable';
}

/** Slots grouped by the provider that holds them. */
function byProvider(record: RecordEntry, slots: readonly number[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const slot of slots) {
    const provider = providerOfRecordSlot(record, slot);
    groups.set(provider, [...(groups.get(provider) ?? []), slot]);
  }
  return groups;
}

/**
 * Checks that every object of a record this device stored is in the cloud and intact (issue 17): a HEAD
 * per object (present, and of the stored size), and with `deep` a GET compared with the catalog's
 * SHA-256. A provider that cannot be reached makes its objects `unreachable`, not lost. Keeps the result
 * with the record (Records shows it) and returns it.
 */
export async function checkRecordHealth(recordId: string, options: CheckOptions): Promise<RecordHealth> {
  const { db, signal } = options;
  const record = await getRecord(db, recordId);
  if (!record) throw new ServiceError('FRAGMENT_UNAVAILABLE', 'No such record on this device.', { recordId });
  const rows = new Map((await getFragments(db, recordId)).map((r) => [r.position, r] as const));
  const total = objectCount(record);
  const missing: number[] = [];
  const damaged: number[] = [];
  const unreachable: number[] = [];
  const slots = Array.from({ length: total }, (_, slot) => slot).filter((slot) => rows.has(slot));
  const note = (slot: number, error: unknown) => {
    if (isAbort(error)) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'FRAGMENT_NOT_IN_CLOUD') missing.push(slot);
    else if (code === 'CHECKSUM_MISMATCH') damaged.push(slot);
    else if (isConnectivityError(error) || code === 'PRESIGN_UNAVAILABLE' || code === 'CLOUD_NOT_CONFIGURED' || code === 'TRANSFER_FAILED') unreachable.push(slot);
    else damaged.push(slot);
  };
  await Promise.all(
    [...byProvider(record, slots)].map(async ([provider, group]) => {
      let engine: TransferEngine;
      try {
        engine = await options.engines(provider);
      } catch (error) {
        if (isAbort(error)) throw error;
        unreachable.push(...group);
        return;
      }
      const heads = await engine.headEach(group.map((slot) => rows.get(slot)!.objectName), { signal });
      const present: number[] = [];
      heads.forEach((outcome, i) => {
        const slot = group[i]!;
        if (!outcome.ok) return note(slot, outcome.error);
        // A store that does not report the size leaves that to the deep check.
        if (outcome.value !== null && outcome.value !== rows.get(slot)!.size) damaged.push(slot);
        else present.push(slot);
      });
      if (!options.deep || present.length === 0) return;
      const gets = await engine.downloadEach(
        present.map((slot) => ({ name: rows.get(slot)!.objectName, sha256: rows.get(slot)!.sha256, size: rows.get(slot)!.size })),
        { signal },
      );
      gets.forEach((outcome, i) => {
        if (!outcome.ok) note(present[i]!, outcome.error);
      });
    }),
  );
  throwIfAborted(signal);
  // Nothing reached at all (offline, locked vault, no connection): that says nothing about the record.
  if (slots.length > 0 && unreachable.length === slots.length) {
    throw new ServiceError('NETWORK_OFFLINE', 'No storage provider of this record could be reached to check it.', { recordId });
  }
  // A slot without a catalog row (a record restored from a backup, never opened here) cannot be checked.
  const sort = (list: number[]) => [...new Set(list)].sort((a, b) => a - b);
  const health: RecordHealth = {
    state: stateOf(record, missing.length + damaged.length, unreachable.length),
    checkedAt: (options.now ?? Date.now)(),
    missing: sort(missing),
    damaged: sort(damaged),
    unreachable: sort(unreachable),
    deep: options.deep === true,
  };
  await setRecordHealth(db, recordId, health);
  return health;
}

export interface RepairOptions extends CheckOptions {
  /** The record key: object names, and re-creating objects from the others (FORMAT.md §4.4). */
  readonly recordKey: Uint8Array;
}

export interface RepairOutcome {
  /** Slots whose object was uploaded again. */
  readonly repaired: readonly number[];
  /** Re-uploaded as they were from this device's copy (the rest re-created from the other objects). */
  readonly fromCache: readonly number[];
  /** The check after the repair. */
  readonly health: RecordHealth;
}

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

/**
 * Re-creates every missing or damaged object of a record and uploads it again, the way Tahoe's repairer
 * does: from this device's own copy when it holds one that still matches the catalog's SHA-256, otherwise
 * from any n good objects with the record key alone (core/parity.ts `repairRecord`: the body comes back
 * byte for byte, the head gets a fresh nonce, so the catalog takes the new digest). Objects on an
 * unreachable provider are left for later. Ends with a deep check and returns it.
 */
export async function repairRecordObjects(recordId: string, options: RepairOptions): Promise<RepairOutcome> {
  const { db, signal } = options;
  const before = await checkRecordHealth(recordId, { ...options, deep: true });
  const broken = [...before.missing, ...before.damaged].sort((a, b) => a - b);
  if (broken.length === 0) return { repaired: [], fromCache: [], health: before };
  const record = (await getRecord(db, recordId))!;
  await setRecordHealth(db, recordId, { ...before, state: 'repairing' });
  const total = objectCount(record);
  const names = await fragmentObjectNames(options.recordKey, recordId, total);
  const rows = new Map((await getFragments(db, recordId)).map((r) => [r.position, r] as const));

  // 1. This device's own copies that still match what was stored.
  const objects: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(total).fill(undefined);
  for (const [slot, row] of rows) {
    if (slot < total && row.blob && row.sha256 !== null && (await sha256Base64(row.blob)) === row.sha256) objects[slot] = await bytesOf(row.blob);
  }
  const fromCache = broken.filter((slot) => objects[slot] !== undefined);
  let rebuilt = new Map<number, Uint8Array>();
  const stillBroken = broken.filter((slot) => objects[slot] === undefined);
  if (stillBroken.length > 0) {
    // 2. The good objects in the cloud (those the check found intact), for what the cache lacks.
    const good = Array.from({ length: total }, (_, slot) => slot).filter((slot) => objects[slot] === undefined && !broken.includes(slot) && !before.unreachable.includes(slot));
    await Promise.all(
      [...byProvider(record, good)].map(async ([provider, group]) => {
        const engine = await options.engines(provider);
        const outcomes = await engine.downloadEach(group.map((slot) => ({ name: names[slot]!, sha256: rows.get(slot)?.sha256 ?? null, size: rows.get(slot)?.size ?? null })), { signal });
        for (const [i, outcome] of outcomes.entries()) if (outcome.ok) objects[group[i]!] = await bytesOf(outcome.value);
      }),
    );
    throwIfAborted(signal);
    // Every slot not in hand counts as lost for the rebuild (repairRecord re-creates all of them).
    const result = await repairRecord(options.recordKey, recordIdBytes(recordId), objects);
    rebuilt = new Map([...result.objects].filter(([slot]) => stillBroken.includes(slot)));
  }

  // 3. Upload, each to its own provider; the catalog takes the bytes now stored.
  const now = (options.now ?? Date.now)();
  const uploads = broken.map((slot) => ({ slot, bytes: objects[slot] ?? rebuilt.get(slot)! }));
  const repaired: number[] = [];
  const updatedRows: FragmentEntry[] = [];
  await Promise.all(
    [...byProvider(record, broken)].map(async ([provider, group]) => {
      const engine = await options.engines(provider);
      const items = await Promise.all(
        group.map(async (slot) => {
          const blob = new Blob([uploads.find((u) => u.slot === slot)!.bytes as BlobPart]);
          return { slot, blob, sha256: await sha256Base64(blob) };
        }),
      );
      const outcomes = await engine.uploadEach(items.map((i) => ({ name: names[i.slot]!, blob: i.blob, sha256: i.sha256 })), { signal });
      outcomes.forEach((outcome, i) => {
        if (!outcome.ok) return;
        const item = items[i]!;
        repaired.push(item.slot);
        updatedRows.push({ recordId, position: item.slot, objectName: names[item.slot]!, size: item.blob.size, sha256: item.sha256, blob: item.blob, uploadedAt: now });
      });
    }),
  );
  await replaceFragments(db, updatedRows);
  const health = await checkRecordHealth(recordId, { ...options, deep: true });
  return { repaired: repaired.sort((a, b) => a - b), fromCache: fromCache.filter((s) => repaired.includes(s)), health };
}

/** What the browser says about the connection and battery (each part may be missing: Safari, Firefox). */
export interface DeviceConditions {
  /** navigator.connection.saveData, or a cellular connection type. */
  readonly metered: boolean;
  /** Battery below 20 % and not charging (navigator.getBattery). */
  readonly lowBattery: boolean;
}

/** Reads the conditions where the browser offers them; where it does not, nothing holds the check back. */
export async function readDeviceConditions(): Promise<DeviceConditions> {
  if (typeof navigator === 'undefined') return { metered: false, lowBattery: false };
  const nav = navigator as Navigator & { connection?: { saveData?: boolean; type?: string }; getBattery?: () => Promise<{ level: number; charging: boolean }> };
  // Guarded (tests/unit/compat/guarded.ts): Safari and Firefox have neither API.
  const connection = 'connection' in nav ? nav.connection : undefined;
  const metered = connection?.saveData === true || connection?.type === 'cellular';
  let lowBattery = false;
  if (typeof nav.getBattery === 'function') {
    try {
      const battery = await nav.getBattery();
      lowBattery = !battery.charging && battery.level < 0.2;
    } catch {
      lowBattery = false;
    }
  }
  return { metered, lowBattery };
}

export interface HealthMonitorOptions {
  readonly db: VaultDb;
  readonly engines: ProviderEngines;
  /** Records checked per run (bounded: a run never reads the whole vault at once). Default 10. */
  readonly recordsPerRun?: number | undefined;
  /** A record is checked again after this long. Default one day. */
  readonly recheckAfterMs?: number | undefined;
  /** Between runs. Default one hour. */
  readonly intervalMs?: number | undefined;
  readonly conditions?: (() => Promise<DeviceConditions>) | undefined;
  readonly onChecked?: ((recordId: string, health: RecordHealth) => void) | undefined;
  /** False while checks cannot run (a locked vault cannot open the tokens): the run is skipped. */
  readonly ready?: (() => boolean) | undefined;
  readonly now?: (() => number) | undefined;
}

/**
 * The background check: every so often, the records checked longest ago (never-checked first) that this
 * device stored and has finished uploading, a few per run. Resumable by construction: each result is
 * kept with its record as it comes, so a run cut short (tab closed, lock) goes on where it stopped.
 * Skipped while the browser says the connection is metered or the battery low.
 */
export class HealthMonitor {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private controller: AbortController | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly options: HealthMonitorOptions) {}

  /** One bounded run now; returns how many records were checked (0 when skipped). */
  runOnce(signal?: AbortSignal): Promise<number> {
    this.running ??= this.run(signal).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(signal?: AbortSignal): Promise<number> {
    if (this.options.ready && !this.options.ready()) return 0;
    const conditions = await (this.options.conditions ?? readDeviceConditions)();
    if (conditions.metered || conditions.lowBattery) return 0;
    const now = (this.options.now ?? Date.now)();
    const due = (await listRecords(this.options.db))
      .filter((r) => (r.sync.state === 'synced' || r.sync.state === 'remote') && r.health?.state !== 'repairing')
      .filter((r) => r.health === undefined || now - r.health.checkedAt >= (this.options.recheckAfterMs ?? 86_400_000))
      .sort((a, b) => (a.health?.checkedAt ?? 0) - (b.health?.checkedAt ?? 0))
      .slice(0, this.options.recordsPerRun ?? 10);
    let checked = 0;
    for (const record of due) {
      if (signal?.aborted) break;
      // Only records whose objects this device knows (their names): others are checked when opened.
      if ((await getFragments(this.options.db, record.recordId)).length < objectCount(record)) continue;
      try {
        const health = await checkRecordHealth(record.recordId, { db: this.options.db, engines: this.options.engines, signal, now: this.options.now });
        checked += 1;
        this.options.onChecked?.(record.recordId, health);
      } catch (error) {
        // Offline now: the rest waits for the next run (each record keeps its own last check).
        if (isAbort(error) || isConnectivityError(error)) break;
        throw error;
      }
    }
    return checked;
  }

  /** Runs now (after `delayMs`) and then every `intervalMs`, until `stop()`. */
  start(delayMs = 30_000): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    const tick = () => {
      void this.runOnce(controller.signal)
        .catch(() => 0)
        .finally(() => {
          if (!controller.signal.aborted) this.timer = setTimeout(tick, this.options.intervalMs ?? 3_600_000);
        });
    };
    this.timer = setTimeout(tick, delayMs);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    clearTimeout(this.timer);
  }
}
