import { indexedDbCopiesBlobs } from './scratch-files.js';

const MiB = 1024 * 1024;

/**
 * From this size on, `auto` writes results to a scratch file on disk. Below it, in-memory Blobs are as
 * fast and need no clean-up; above it, a GiB of in-memory Blobs makes Chromium fail reads with
 * NotReadableError, and OPFS writes ran faster than building Blobs (bench/README).
 */
export const DISK_SINK_MIN_BYTES = 64 * MiB;

export type SinkChoice = 'auto' | 'memory' | 'disk';

/**
 * The one place that decides where an engine result goes: memory (Blobs) or a scratch file. The engine
 * client asks it for every call and hands the engine workers a settled `memory` or `disk`; the workers
 * only carry that out (output-sink.ts, falling back to memory where a scratch file cannot be made).
 *
 * `auto`: memory below DISK_SINK_MIN_BYTES. Above it, an opened file goes to disk; protected fragments
 * go to disk only where IndexedDB keeps its own copy of a stored Blob. Fragments are stored in IndexedDB
 * next, and in a private window IndexedDB keeps a stored Blob as a reference to its source, not a copy:
 * once the scratch file was removed, the stored fragments could no longer be read (found by the 70 MiB
 * e2e test: uploads failed with ERR_FILE_NOT_FOUND). In-memory Blobs stay valid as long as IndexedDB holds
 * them, and Chromium pages them to the profile when they are large.
 */
export async function resultSink(direction: 'protect' | 'open', size: number, wanted: SinkChoice = 'auto', copiesBlobs: () => Promise<boolean> = indexedDbCopiesBlobs): Promise<'memory' | 'disk'> {
  if (wanted !== 'auto') return wanted;
  if (size < DISK_SINK_MIN_BYTES) return 'memory';
  return direction === 'open' || (await copiesBlobs()) ? 'disk' : 'memory';
}
