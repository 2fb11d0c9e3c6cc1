import type { IDBPTransaction, StoreNames } from 'idb';
import type { VaultDb } from './open-vault-db.js';
import type { VaultSchema } from './schema.js';
import { toStorageError } from './storage-error.js';

export type VaultStoreName = StoreNames<VaultSchema>;
export type VaultTransaction<Names extends VaultStoreName[], Mode extends IDBTransactionMode> = IDBPTransaction<VaultSchema, Names, Mode>;

function abortQuietly(tx: { abort(): void }): void {
  try {
    tx.abort();
  } catch {
    // Already aborted (a failed request aborts it) or already finished: nothing to undo.
  }
}

/**
 * Runs `body` in one transaction and resolves only once it committed, mapping failures to typed
 * errors. `body` must await nothing but requests of `tx`: awaiting anything else (a fetch, a digest,
 * a timer) lets the transaction auto-commit half-way (idb README, "transaction lifetime"). On any
 * failure the transaction is aborted, so nothing of it is kept.
 */
export async function inTransaction<Names extends VaultStoreName[], Mode extends IDBTransactionMode, T>(
  db: VaultDb,
  names: Names,
  mode: Mode,
  action: string,
  body: (tx: VaultTransaction<Names, Mode>) => Promise<T>,
): Promise<T> {
  let tx: VaultTransaction<Names, Mode>;
  try {
    tx = db.transaction(names, mode);
  } catch (error) {
    throw toStorageError(error, action);
  }
  let result: T;
  try {
    result = await body(tx);
  } catch (error) {
    abortQuietly(tx);
    await tx.done.catch(() => {});
    // A request error (e.g. QuotaExceededError from a put) explains more than the AbortError that follows it.
    throw toStorageError(tx.error ?? error, action);
  }
  try {
    await tx.done;
  } catch (error) {
    // Quota is often only known at commit time; tx.error then says so.
    throw toStorageError(tx.error ?? error, action);
  }
  return result;
}

/**
 * Issues several requests and awaits them all. A request that throws while being issued (a
 * DataCloneError, a quota error some browsers raise at once) must not leave the requests issued before
 * it as unobserved rejections when the transaction then aborts, so each gets a handler as it is made.
 */
export async function issueAll(issue: (track: (request: Promise<unknown>) => void) => void): Promise<void> {
  const issued: Promise<unknown>[] = [];
  issue((request) => {
    request.catch(() => undefined);
    issued.push(request);
  });
  await Promise.all(issued);
}
