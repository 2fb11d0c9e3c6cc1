import { lengthMismatch, openBodySegment, sealBodySegment, type BodySegment, type SegmentContext } from '../core/envelope.js';
import { wrapEnvelopePieces, wrapEnvelopeRange, type PayloadPlacement } from '../core/object-wrap.js';
import { readRange, recycleRange } from './read-range.js';
import { scratchWriter } from './scratch-file.js';
import { InputInvalidError } from '../core/errors.js';
import { digestBase64 } from './fragment-hashes.js';

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
  /** Objects whose SHA-256 this lane computes (seal only; see LaneHashing). */
  readonly hash?: LaneHashing | undefined;
}

/**
 * Objects whose payload lies wholly in one lane's segments, which that lane runs in order (the pool gives
 * each lane one contiguous block when hashing): the lane gathers each such object and hashes it itself,
 * so the hashing runs on the pool's threads instead of all of it on the engine's.
 */
export interface LaneHashing {
  /** Names this protect, so that state kept between jobs never mixes two runs. */
  readonly run: string;
  readonly objects: readonly LaneHashedObject[];
}

export interface LaneHashedObject {
  readonly index: number;
  /** Its payload in the envelope. */
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** Bytes of the whole object (head, sealed prefix, payload, sealed tail). */
  readonly size: number;
  /** Head ‖ sealed prefix: given with the job in which the payload starts. */
  readonly lead?: readonly Uint8Array[] | undefined;
  /** The sealed tail: given with the job in which the payload ends. */
  readonly tail?: readonly Uint8Array[] | undefined;
}

/** What a segment gives back: its Blob (memory sink) and, when asked, its output bytes in order. */
export interface SegmentOutput {
  readonly blob?: Blob | undefined;
  readonly output?: Uint8Array[] | undefined;
  /** [object index, base64 SHA-256] of the lane-hashed objects that ended in this segment. */
  readonly digests?: [number, string][] | undefined;
}

/** Lane-hashed objects being gathered, between the jobs of one lane (this thread). */
const gathering = new Map<string, { readonly buffer: Uint8Array; readonly lead: number }>();

/** Copies a segment's output into the lane-hashed objects it covers; digests those it completes. */
async function hashInLane(hash: LaneHashing, offset: number, output: readonly Uint8Array[]): Promise<[number, string][]> {
  const digests: Promise<[number, string]>[] = [];
  for (const o of hash.objects) {
    const key = `${hash.run}:${o.index}`;
    let state = gathering.get(key);
    if (!state) {
      if (!o.lead) throw new InputInvalidError('A lane-hashed object was continued before it began.', { index: o.index });
      const buffer = new Uint8Array(o.size);
      let at = 0;
      for (const part of o.lead) {
        buffer.set(part, at);
        at += part.length;
      }
      state = { buffer, lead: at };
      gathering.set(key, state);
    }
    let pieceStart = offset;
    for (const piece of output) {
      const from = Math.max(pieceStart, o.payloadStart);
      const to = Math.min(pieceStart + piece.length, o.payloadEnd);
      if (from < to) state.buffer.set(piece.subarray(from - pieceStart, to - pieceStart), state.lead + (from - o.payloadStart));
      pieceStart += piece.length;
    }
    if (o.tail) {
      let at = state.lead + (o.payloadEnd - o.payloadStart);
      for (const part of o.tail) {
        state.buffer.set(part, at);
        at += part.length;
      }
      gathering.delete(key);
      // digest() copies its input before it returns: the output buffers may be transferred afterwards.
      digests.push(digestBase64(state.buffer).then((d) => [o.index, d]));
    }
  }
  return Promise.all(digests);
}

/** Forgets objects half gathered by a run that ended (failed or cancelled). */
export function forgetLaneHashing(run: string): void {
  for (const key of [...gathering.keys()]) if (key.startsWith(`${run}:`)) gathering.delete(key);
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
      output = (
        await Promise.all(
          sealed.map((piece) => {
            const offset = at;
            at += piece.length;
            return wrapEnvelopePieces(job.wrap.key, job.wrap.placements, offset, piece);
          }),
        )
      ).flat();
    } else {
      output = await openBodySegment(job.encryption, job.context, segment, await wrapEnvelopeRange(job.wrap.key, job.wrap.placements, start, input));
    }
  } finally {
    // WebCrypto copied every chunk when each call began, so the buffer is free once all have finished.
    recycleRange(input);
  }
  const digests = job.hash && direction === 'seal' ? await hashInLane(job.hash, segment.cipherStart, output) : undefined;
  const kept = job.keepOutput ? output : undefined;
  if (job.sink.kind === 'memory') return { blob: new Blob(output as BlobPart[]), output: kept, digests };
  const writer = await scratchWriter(job.sink.file);
  let at = job.sink.base + (direction === 'seal' ? segment.cipherStart : segment.plainStart);
  for (const piece of output) {
    writer.write(piece, { at });
    at += piece.length;
  }
  return { output: kept, digests };
}
