import * as Comlink from 'comlink';
import { EhrVaultError, type ErrorCode } from '../core/errors.js';

interface SerializedVaultError {
  readonly ehrVaultError: true;
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
  readonly details: Record<string, unknown>;
  readonly name: string;
}

/**
 * Comlink sends thrown errors as plain `Error`s, losing `code`, `hint` and `details`. Both sides install
 * this handler so a typed error thrown in a worker arrives as an `EhrVaultError` with the same code.
 */
export function installErrorTransfer(): void {
  const original = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<{ value: unknown }, unknown>;
  if ((original as { ehrVault?: boolean }).ehrVault) return;
  const handler: Comlink.TransferHandler<{ value: unknown }, unknown> & { ehrVault: boolean } = {
    ehrVault: true,
    canHandle: original.canHandle,
    serialize(thrown) {
      const value = thrown.value;
      if (value instanceof EhrVaultError) {
        const serialized: SerializedVaultError = {
          ehrVaultError: true,
          code: value.code,
          message: value.message,
          hint: value.hint,
          details: structuredCloneable(value.details),
          name: value.name,
        };
        return [serialized, []];
      }
      return original.serialize(thrown);
    },
    deserialize(serialized) {
      const s = serialized as Partial<SerializedVaultError>;
      if (s.ehrVaultError) {
        const error = new EhrVaultError(s.code!, s.message!, s.hint!, s.details ?? {});
        error.name = s.name ?? error.name;
        throw error;
      }
      return original.deserialize(serialized);
    },
  };
  Comlink.transferHandlers.set('throw', handler);
}

/** Details are plain data by convention; this drops anything that would make postMessage fail. */
function structuredCloneable(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  try {
    return structuredClone(details) as Record<string, unknown>;
  } catch {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  }
}
