import { openScratchWriter, probeSharedWriters, scratchFile } from './scratch-file.js';
import type { SegmentSink } from './segment-jobs.js';
import { engineStep } from './engine-step.js';

export interface SinkRequest {
  /**
   * `auto` (default), `memory` or `disk`: settled by the services (services/result-sink.ts decides) before
   * the request reaches an engine worker; a worker treats `auto` as memory.
   */
  readonly sink?: 'auto' | 'memory' | 'disk' | undefined;
  /** Name of the scratch file the engine may create (chosen by the services, who also remove it). */
  readonly scratch?: string | undefined;
}

/**
 * Prepares the sink the request names (where results go is decided once, by services/result-sink.ts).
 * For `disk` the file is created at its full size (where OPFS sync handles are missing, output stays in
 * memory), and a second handle is tried: where it is refused ('readwrite-unsafe' not honoured: Firefox,
 * Safari, Chromium before 121), the sink is marked `relay` and the pool workers hand their output to the
 * engine worker, which is the file's only writer (scratch-file.ts).
 */
export async function chooseSink(request: SinkRequest, size: number, base: number): Promise<SegmentSink> {
  if (!request.scratch || request.sink !== 'disk') return { kind: 'memory' };
  try {
    engineStep('scratch file: creating it');
    const writer = await openScratchWriter(request.scratch, true);
    try {
      await writer.truncate(size);
    } finally {
      await writer.close();
    }
    engineStep('scratch file: asking whether two writers may share it');
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
