import { lengthMismatch, openBodySegment, sealBodySegment, type BodySegment, type SegmentContext } from '../core/envelope.js';
import { wrapEnvelopeRange, type PayloadPlacement } from '../core/object-wrap.js';
import { readRange, recycleRange } from './read-range.js';
import { scratchWriter } from './scratch-file.js';

/**
 * Where a segment's output goes: `memory` returns it as a Blob; `disk` writes it into a scratch file at
 * `at` + the segment's own offset and returns nothing.
 */
export type SegmentSink = { readonly kind: 'memory' } | { readonly kind: 'disk'; readonly file: string; readonly base: number };

export interface SegmentJob {
  readonly direction: 'seal' | 'open';
  /** The plaintext file (seal) or the merged fragment payloads (open), read by range. */
  readonly source: Blob;
  readonly encryption: CryptoKey;
  readonly context: SegmentContext;
  readonly segment: BodySegment;
  readonly sink: SegmentSink;
  readonly wrap: ObjectWrap;
  /** Hand the output bytes back too (for the fragment hashes, fragment-hashes.ts). */
  readonly keepOutput?: boolean | undefined;
}

/** What a segment gives back: its Blob (memory sink) and, when asked, its output bytes in order. */
export interface SegmentOutput {
  readonly blob?: Blob | undefined;
  readonly output?: Uint8Array[] | undefined;
}

/** The object seal (FORMAT.md §4.2) of the envelope bytes a segment covers: applied after sealing, removed before opening. */
export interface ObjectWrap {
  readonly key: CryptoKey;
  readonly placements: readonly PayloadPlacement[];
}

/**
 * One segment, start to finish: read its range, encrypt or decrypt its chunks, hand the output to the
 * sink. Each worker of the pool runs these; doing read, crypto and output on several threads at once is
 * what lifted throughput (bench/README: one thread reading, encrypting and building Blobs in turn ran at
 * half the speed of two).
 */
export async function runSegmentJob(job: SegmentJob): Promise<SegmentOutput> {
  const { segment, direction } = job;
  const [start, end] = direction === 'seal' ? [segment.plainStart, segment.plainEnd] : [segment.cipherStart, segment.cipherEnd];
  const input = await readRange(job.source, start, end);
  if (direction === 'seal' && input.length !== end - start) throw lengthMismatch(end - start, input.length);
  let output: Uint8Array[];
  try {
    if (direction === 'seal') {
      const sealed = await sealBodySegment(job.encryption, job.context, segment, input);
      let at = segment.cipherStart;
      output = await Promise.all(
        sealed.map((piece) => {
          const offset = at;
          at += piece.length;
          return wrapEnvelopeRange(job.wrap.key, job.wrap.placements, offset, piece);
        }),
      );
    } else {
      output = await openBodySegment(job.encryption, job.context, segment, await wrapEnvelopeRange(job.wrap.key, job.wrap.placements, start, input));
    }
  } finally {
    // WebCrypto copied every chunk when each call began, so the buffer is free once all have finished.
    recycleRange(input);
  }
  const kept = job.keepOutput ? output : undefined;
  if (job.sink.kind === 'memory') return { blob: new Blob(output as BlobPart[]), output: kept };
  const writer = await scratchWriter(job.sink.file);
  let at = job.sink.base + (direction === 'seal' ? segment.cipherStart : segment.plainStart);
  for (const piece of output) {
    writer.write(piece, { at });
    at += piece.length;
  }
  return { output: kept };
}
