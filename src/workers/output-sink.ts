import { openScratchWriter, probeSharedWriters, scratchFile } from './scratch-file.js';
import type { SegmentSink } from './segment-jobs.js';

const MiB = 1024 * 1024;

/**
 * From this size on, `auto` writes results to a scratch file on disk. Below it, in-memory Blobs are as
 * fast and need no clean-up; above it, a GiB of in-memory Blobs makes Chromium fail reads with
 * NotReadableError, and OPFS writes ran faster than building Blobs (bench/README).
 */
export const DISK_SINK_MIN_BYTES = 64 * MiB;

export interface SinkRequest {
  /** `auto` (default): disk from DISK_SINK_MIN_BYTES when a scratch name is given; `memory`; `disk`. */
  readonly sink?: 'auto' | 'memory' | 'disk' | undefined;
  /** Name of the scratch file the engine may create (chosen by the services, who also remove it). */
  readonly scratch?: string | undefined;
}

/**
 * Picks where segment output goes. `autoMayUseDisk` is false for protect: fragments are stored in
 * IndexedDB next, and in a private window IndexedDB keeps a stored Blob as a reference to its source, not a
 * copy; once the scratch file was removed, the stored fragments could no longer be read (found by the 70 MiB
 * e2e test: uploads failed with ERR_FILE_NOT_FOUND). In-memory Blobs stay valid as long as IndexedDB holds
 * them, and Chromium pages them to the profile when they are large. A disk sink is prepared here: the file
 * is created at its full size (where OPFS sync handles are missing, output stays in memory), and a second
 * handle is tried: where it is refused ('readwrite-unsafe' not honoured: Firefox, Safari, Chromium before
 * 121), the sink is marked `relay` and the pool workers hand their output to the engine worker, which is
 * the file's only writer (scratch-file.ts).
 */
export async function chooseSink(request: SinkRequest, size: number, base: number, autoMayUseDisk = true): Promise<SegmentSink> {
  const wanted = request.sink ?? 'auto';
  if (!request.scratch || wanted === 'memory' || (wanted === 'auto' && (!autoMayUseDisk || size < DISK_SINK_MIN_BYTES))) return { kind: 'memory' };
  try {
    const writer = await openScratchWriter(request.scratch, true);
    try {
      await writer.truncate(size);
    } finally {
      await writer.close();
    }
    const sink: DiskSink = (await probeSharedWriters(request.scratch)) ? { kind: 'disk', file: request.scratch, base } : { kind: 'disk', file: request.scratch, base, relay: true };
    return sink;
  } catch {
    return { kind: 'memory' };
  }
}

/** A disk sink; `relay`: one writer per file, fed by the pool workers (see chooseSink). */
export type DiskSink = Extract<SegmentSink, { kind: 'disk' }> & { readonly relay?: true };

export function isRelaySink(sink: SegmentSink): sink is DiskSink & { readonly relay: true } {
  return sink.kind === 'disk' && (sink as DiskSink).relay === true;
}

/** The finished output as one Blob: the segments' Blobs composed (no copy), or the scratch file. */
export async function finishSink(sink: SegmentSink, parts: readonly Blob[], type = ''): Promise<Blob> {
  if (sink.kind === 'memory') return new Blob(parts as Blob[], { type });
  const file = await scratchFile(sink.file);
  return type ? new Blob([file], { type }) : file;
}
