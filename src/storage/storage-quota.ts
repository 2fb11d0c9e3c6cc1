import { StorageError } from './storage-error.js';

/** The part of `navigator.storage` used here; injectable so Node tests can stand in for it. */
export interface StorageManagerLike {
  persist?(): Promise<boolean>;
  persisted?(): Promise<boolean>;
  estimate?(): Promise<{ usage?: number | undefined; quota?: number | undefined }>;
}

export interface StorageEstimateReport {
  /** Bytes used by this origin, or null when the browser does not say. */
  readonly usage: number | null;
  readonly quota: number | null;
  /** Bytes still free under the quota, or null when unknown. */
  readonly available: number | null;
  readonly persisted: boolean | null;
}

function defaultManager(): StorageManagerLike | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.storage;
}

/**
 * Asks the browser not to evict our data under storage pressure. Records may exist only here until the
 * outbox has uploaded them, so eviction would lose them. Returns whether storage is (now) persistent;
 * false also when the browser cannot say.
 */
export async function requestPersistentStorage(manager: StorageManagerLike | undefined = defaultManager()): Promise<boolean> {
  try {
    if (manager?.persisted && (await manager.persisted())) return true;
    return manager?.persist ? await manager.persist() : false;
  } catch {
    // Some browsers throw in private mode; persistence is a wish, not a requirement.
    return false;
  }
}

export async function estimateStorage(manager: StorageManagerLike | undefined = defaultManager()): Promise<StorageEstimateReport> {
  let usage: number | null = null;
  let quota: number | null = null;
  let persisted: boolean | null = null;
  try {
    const estimate = await manager?.estimate?.();
    usage = estimate?.usage ?? null;
    quota = estimate?.quota ?? null;
  } catch {
    // Unknown is a valid answer; callers then rely on the transaction's own quota error.
  }
  try {
    persisted = manager?.persisted ? await manager.persisted() : null;
  } catch {
    persisted = null;
  }
  const available = usage !== null && quota !== null ? Math.max(0, quota - usage) : null;
  return { usage, quota, available, persisted };
}

/**
 * Refuses early when the estimate says `bytes` cannot fit, so a person learns it before a long write.
 * The estimate is approximate (browsers pad it), so the transaction's QuotaExceededError remains the
 * authority; this only avoids starting a write that is sure to fail.
 */
export async function ensureRoomFor(bytes: number, manager: StorageManagerLike | undefined = defaultManager()): Promise<StorageEstimateReport> {
  const report = await estimateStorage(manager);
  if (report.available !== null && bytes > report.available) {
    throw new StorageError('STORAGE_FULL', `This record needs ${bytes} bytes of storage, but only ${report.available} are free for this app.`, {
      needed: bytes,
      available: report.available,
      quota: report.quota,
    });
  }
  return report;
}
