import { PRIMARY_PROVIDER, type OutboxEntry, type OutboxOp, type OutboxState, type StoredError } from './schema.js';
import { StorageError } from './storage-error.js';

/**
 * The outbox state machine, as pure functions so it can be tested without a database:
 *
 *   pending ──claim──▶ in-flight ──succeed──▶ (entry removed)
 *      ▲                  │ retryLater (transient failure: attempts + 1, due later)
 *      ├──────────────────┤ release    (interrupted: stop, offline, crash recovery; no attempt counted)
 *      │                  └ fail       (needs a person) ──▶ failed ──retry──▶ pending
 *
 * A crash leaves entries in-flight; the next runner releases them. Re-sending a PUT to the same object
 * name is idempotent, so a retried upload can never store a fragment twice.
 */
export function newOutboxEntry(recordId: string, position: number, objectName: string, op: OutboxOp, now: number, provider?: string): OutboxEntry {
  return { recordId, position, objectName, op, ...(provider !== undefined && provider !== PRIMARY_PROVIDER ? { provider } : {}), state: 'pending', attempts: 0, nextAttemptAt: now, lastError: null, createdAt: now, updatedAt: now };
}

function expect(entry: OutboxEntry, states: readonly OutboxState[], transition: string): void {
  if (!states.includes(entry.state)) {
    throw new StorageError('OUTBOX_INVALID_TRANSITION', `Cannot ${transition} an outbox entry that is ${entry.state}.`, {
      recordId: entry.recordId,
      position: entry.position,
      state: entry.state,
      transition,
    });
  }
}

export function isDue(entry: OutboxEntry, now: number): boolean {
  return entry.state === 'pending' && entry.nextAttemptAt <= now;
}

export function claim(entry: OutboxEntry, now: number): OutboxEntry {
  expect(entry, ['pending'], 'claim');
  return { ...entry, state: 'in-flight', updatedAt: now };
}

/** Interrupted before an outcome: back to pending, due now, without counting an attempt. */
export function release(entry: OutboxEntry, now: number): OutboxEntry {
  expect(entry, ['in-flight'], 'release');
  return { ...entry, state: 'pending', nextAttemptAt: now, updatedAt: now };
}

export function retryLater(entry: OutboxEntry, error: StoredError, now: number, delayMs: number): OutboxEntry {
  expect(entry, ['in-flight'], 'reschedule');
  return { ...entry, state: 'pending', attempts: entry.attempts + 1, nextAttemptAt: now + Math.max(0, delayMs), lastError: error, updatedAt: now };
}

export function fail(entry: OutboxEntry, error: StoredError, now: number): OutboxEntry {
  expect(entry, ['in-flight'], 'fail');
  return { ...entry, state: 'failed', attempts: entry.attempts + 1, lastError: error, updatedAt: now };
}

/** A person fixed the cause (new token, settings): try again now, keeping the history. */
export function retry(entry: OutboxEntry, now: number): OutboxEntry {
  expect(entry, ['failed'], 'retry');
  return { ...entry, state: 'pending', nextAttemptAt: now, updatedAt: now };
}

/** Only in-flight entries finish; the caller then deletes the entry. */
export function assertCanSucceed(entry: OutboxEntry): void {
  expect(entry, ['in-flight'], 'complete');
}
