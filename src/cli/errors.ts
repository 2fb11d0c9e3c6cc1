import { EhrVaultError, type ErrorDetails } from '../core/errors.js';

/** Codes of failures that belong to the command line (the core's own codes pass through unchanged). */
export type CliErrorCode =
  | 'USAGE'
  | 'SEQUENCE_KEY_NEEDED'
  | 'INPUT_UNREADABLE'
  | 'OUTPUT_EXISTS'
  | 'OUTPUT_FAILED'
  | 'STORAGE_UNAUTHORIZED'
  | 'STORAGE_REJECTED'
  | 'STORAGE_UNAVAILABLE'
  | 'JOURNAL_MISMATCH'
  | 'PROTECT_INCOMPLETE';

export class CliError extends EhrVaultError<CliErrorCode> {
  constructor(code: CliErrorCode, message: string, hint: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(code, message, hint, details, options);
  }
}

/**
 * Exit codes (docs/CLI.md): stable, so scripts can tell "the record is damaged" from "the key is wrong" from
 * "the network is down" without parsing messages.
 */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  KEY: 3,
  DAMAGED: 4,
  STORAGE: 5,
  LOCAL_IO: 6,
  INCOMPLETE: 7,
  INTERRUPTED: 130,
} as const;

const KEY_CODES = new Set(['SEQUENCE_KEY_INVALID', 'WRONG_SEQUENCE_KEY', 'WRONG_RECORD_KEY', 'KEY_TEXT_INVALID', 'SHARE_TEXT_INVALID', 'SEQUENCE_KEY_NEEDED']);
const STORAGE_CODES = new Set(['STORAGE_UNAUTHORIZED', 'STORAGE_REJECTED', 'STORAGE_UNAVAILABLE']);
const IO_CODES = new Set(['INPUT_UNREADABLE', 'OUTPUT_EXISTS', 'OUTPUT_FAILED', 'JOURNAL_MISMATCH']);

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof EhrVaultError)) return EXIT.INTERNAL;
  const code = error.code as string;
  if (code === 'USAGE') return EXIT.USAGE;
  if (code === 'ABORTED') return EXIT.INTERRUPTED;
  if (code === 'PROTECT_INCOMPLETE') return EXIT.INCOMPLETE;
  if (KEY_CODES.has(code)) return EXIT.KEY;
  if (STORAGE_CODES.has(code)) return EXIT.STORAGE;
  if (IO_CODES.has(code)) return EXIT.LOCAL_IO;
  if (/^(FRAGMENT_|CHAIN_|ENVELOPE_|METADATA_)/.test(code)) return EXIT.DAMAGED;
  return EXIT.INTERNAL;
}

export function usage(message: string, hint = 'Run the command with --help to see its options.'): CliError {
  return new CliError('USAGE', message, hint);
}

/** A Node I/O error (ENOENT, EACCES…) as a typed error naming the path. */
export function ioError(code: 'INPUT_UNREADABLE' | 'OUTPUT_FAILED', path: string, cause: unknown): CliError {
  const reason = cause instanceof Error && 'code' in cause ? String((cause as { code: unknown }).code) : cause instanceof Error ? cause.message : String(cause);
  return code === 'INPUT_UNREADABLE'
    ? new CliError(code, `Cannot read ${path} (${reason}).`, 'Check the path and its permissions.', { path, reason }, { cause })
    : new CliError(code, `Cannot write ${path} (${reason}).`, 'Check the folder exists, is writable and has free space.', { path, reason }, { cause });
}
