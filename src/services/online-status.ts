/**
 * Whether the device believes it is online, and a way to hear when it comes back. `navigator.onLine`
 * false is reliable ("definitely offline"); true only means "maybe", which is why the outbox runner
 * also treats network errors as offline and probes with backoff.
 */
export interface OnlineStatus {
  isOnline(): boolean;
  /** Calls `listener` whenever the device goes online; returns an unsubscribe function. */
  onOnline(listener: () => void): () => void;
}

export function browserOnlineStatus(): OnlineStatus {
  return {
    isOnline: () => typeof navigator === 'undefined' || navigator.onLine !== false,
    onOnline(listener) {
      if (typeof globalThis.addEventListener !== 'function') return () => {};
      globalThis.addEventListener('online', listener);
      return () => globalThis.removeEventListener('online', listener);
    },
  };
}

/** For Node and tests: always online, never an event. */
export const ALWAYS_ONLINE: OnlineStatus = { isOnline: () => true, onOnline: () => () => {} };
