/**
 * The sequence key a person chose up front, kept in memory only (never stored): for the next record, or
 * for every record until the app is locked when `keep` is set.
 */
export interface SessionSequenceKey {
  readonly value: string;
  readonly keep: boolean;
}

let current: SessionSequenceKey = { value: '', keep: false };
const listeners = new Set<(key: SessionSequenceKey) => void>();

export function sessionSequenceKey(): SessionSequenceKey {
  return current;
}

/** Pasted keys lose surrounding whitespace: a sequence key never contains any. */
export function setSessionSequenceKey(value: string, keep = current.keep): void {
  current = { value: value.trim(), keep };
  for (const listener of listeners) listener(current);
}

/** After a record was protected: the key is forgotten unless the person asked to keep using it. */
export function recordProtected(): void {
  if (!current.keep) setSessionSequenceKey('', false);
}

/** On lock: forgotten whatever `keep` says. */
export function forgetSessionSequenceKey(): void {
  setSessionSequenceKey('', false);
}

export function onSessionSequenceKeyChange(listener: (key: SessionSequenceKey) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
