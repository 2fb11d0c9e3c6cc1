import { describe, expect, it } from 'vitest';
import { bodySegments, parseEnvelopeHeader, EnvelopeSealer, deriveRecordKeys, generateRecordKey, systemRandomBytes } from '../../../src/core/index.js';
import { runSegmentsOn, type Lane, type SegmentRun } from '../../../src/workers/segment-pool.js';
import { runSegmentJob, type SegmentJob } from '../../../src/workers/segment-jobs.js';
import { caught, fileMetadata } from '../core/helpers.js';

/** A run over a 10-segment body; the lanes are fakes, so only the scheduling is under test. */
async function plan(sink: SegmentRun['sink'] = { kind: 'memory' }, signal?: AbortSignal) {
  const keys = await deriveRecordKeys(generateRecordKey(), systemRandomBytes(16), systemRandomBytes(32), systemRandomBytes(16));
  const sealer = await EnvelopeSealer.create(keys, fileMetadata(10_000), { chunkSize: 1000 });
  const header = parseEnvelopeHeader(sealer.head);
  const progress: number[] = [];
  const run: SegmentRun = {
    direction: 'seal',
    source: new Blob([]),
    encryption: keys.encryption,
    context: sealer.segmentContext,
    segments: bodySegments(header, 10_000, 1),
    sink,
    wrap: { key: keys.wrap, placements: [] },
    signal,
    onProgress: (done) => progress.push(done),
  };
  return { run, progress };
}

function fakeLane(behaviour: (job: SegmentJob) => Promise<Blob | undefined>) {
  const state = { stopped: false, finished: false, jobs: [] as number[] };
  const lane: Lane = {
    run: (job) => {
      state.jobs.push(job.segment.index);
      return behaviour(job).then((blob) => ({ blob }));
    },
    finish: async () => {
      state.finished = true;
    },
    stop: () => {
      state.stopped = true;
    },
  };
  return { lane, state };
}

const never = () => new Promise<Blob | undefined>(() => {});
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('segment pool scheduling', () => {
  it('hands every segment out once, returns outputs in order, reports progress, and finishes a disk sink', async () => {
    const { run, progress } = await plan({ kind: 'disk', file: 'x.bin', base: 0 });
    const lanes = [0, 1, 2].map(() => fakeLane(async (job) => (await tick(), new Blob([String(job.segment.index)]))));
    await runSegmentsOn(lanes.map((l) => l.lane), run);
    expect(lanes.flatMap((l) => l.state.jobs).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(progress).toEqual([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]);
    expect(lanes.every((l) => l.state.finished && l.state.stopped)).toBe(true);
    const memory = await plan();
    const outs = await runSegmentsOn([fakeLane(async (job) => new Blob([String(job.segment.index)])).lane], memory.run);
    expect(await Promise.all(outs.map((b) => b.text()))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('with failures in several segments, the first in stream order is thrown even if a later one failed first; no new segment starts', async () => {
    const { run } = await plan();
    // Segment 1 fails late, segment 2 at once: 2 fails first, yet 1 is the one reported.
    const failing = async (job: SegmentJob): Promise<Blob | undefined> => {
      const i = job.segment.index;
      if (i === 1) await new Promise((resolve) => setTimeout(resolve, 30));
      if (i === 1 || i === 2) throw new Error(`segment ${i}`);
      return undefined;
    };
    const lanes = [0, 1].map(() => fakeLane(failing));
    await expect(runSegmentsOn(lanes.map((l) => l.lane), run)).rejects.toThrow('segment 1');
    expect(lanes.flatMap((l) => l.state.jobs).sort()).toEqual([0, 1, 2]);
  });

  it('a lane that never answers is ENGINE_STALLED after the stall time, and every lane is stopped', async () => {
    const { run } = await plan();
    const lanes = [fakeLane(async () => undefined), fakeLane(never)];
    const error = await caught(() => runSegmentsOn(lanes.map((l) => l.lane), run, 50));
    expect(error.code).toBe('ENGINE_STALLED');
    expect(lanes.every((l) => l.state.stopped)).toBe(true);
    // Its details say where each lane was (the Firefox CI stall is diagnosed from these).
    const details = error.details as { lanes: string[]; segmentsDone: number; segments: number };
    expect(details.lanes[1]).toMatch(/^lane 1: segment \d+ started since \d+ ms$/);
    expect(details.segmentsDone).toBeLessThan(details.segments);
  });

  it('cancel stops every lane at once and rejects with ABORTED, even while a lane never answers', async () => {
    const controller = new AbortController();
    const { run } = await plan({ kind: 'memory' }, controller.signal);
    const lanes = [fakeLane(never), fakeLane(never)];
    const pending = runSegmentsOn(lanes.map((l) => l.lane), run);
    setTimeout(() => controller.abort(), 5);
    const error = await caught(() => pending);
    expect(error.code).toBe('ABORTED');
    expect(lanes.every((l) => l.state.stopped)).toBe(true);
  });

  it('real segment jobs on three lanes finishing out of order: with onOutput each segment hands back exactly the bytes of its Blob', async () => {
    const keys = await deriveRecordKeys(generateRecordKey(), systemRandomBytes(16), systemRandomBytes(32), systemRandomBytes(16));
    const sealer = await EnvelopeSealer.create(keys, fileMetadata(10_000), { chunkSize: 1000 });
    const source = new Blob([systemRandomBytes(10_000) as BlobPart]);
    const outputs = new Map<number, Uint8Array>();
    let slow = 3;
    const lane = (): Lane => ({
      run: async (job) => {
        // Later segments overtake earlier ones now and then.
        if (slow-- > 0) await new Promise((resolve) => setTimeout(resolve, 10));
        return runSegmentJob(job);
      },
      finish: async () => {},
      stop: () => {},
    });
    const blobs = await runSegmentsOn([lane(), lane(), lane()], {
      direction: 'seal',
      source,
      encryption: keys.encryption,
      context: sealer.segmentContext,
      segments: sealer.claimSegments(1),
      sink: { kind: 'memory' },
      wrap: { key: keys.wrap, placements: [] },
      onOutput: (segment, output) => outputs.set(segment.cipherStart, new Uint8Array(Buffer.concat(output))),
    });
    const sealed = new Uint8Array(await new Blob(blobs).arrayBuffer());
    const handedBack = new Uint8Array(Buffer.concat([...outputs.entries()].sort(([a], [b]) => a - b).map(([, bytes]) => bytes)));
    expect(outputs.size).toBe(10);
    expect(handedBack).toEqual(sealed);
  });
});
