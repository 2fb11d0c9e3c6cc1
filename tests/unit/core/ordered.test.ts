import { describe, expect, it } from 'vitest';
import { inOrder } from '../../../src/core/ordered.js';
import { caught } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('inOrder, the one ordered-concurrency helper', () => {
  it('keeps at most `limit` tasks in flight, tells each its lane, and returns results in index order', async () => {
    let inFlight = 0;
    let peak = 0;
    const lanes = new Set<number>();
    const out = await inOrder(9, 3, async (i, lane) => {
      lanes.add(lane);
      peak = Math.max(peak, ++inFlight);
      await sleep((9 - i) % 4);
      inFlight--;
      return i * 2;
    });
    expect(out).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    expect(peak).toBe(3);
    expect([...lanes].sort()).toEqual([0, 1, 2]);
  });

  it('contiguous: each lane takes one block of indices, in order; results still in index order', async () => {
    for (const [count, limit] of [[10, 2], [7, 3], [5, 4], [1, 2], [0, 2]] as const) {
      const seen = new Map<number, number[]>();
      const out = await inOrder(count, limit, async (i, lane) => {
        seen.set(lane, [...(seen.get(lane) ?? []), i]);
        await sleep((i * 7) % 3);
        return i;
      }, { contiguous: true });
      expect(out).toEqual(Array.from({ length: count }, (_, i) => i));
      const block = Math.ceil(count / Math.max(1, Math.min(limit, count)));
      for (const [lane, indices] of seen) expect(indices, `${count}/${limit} lane ${lane}`).toEqual(Array.from({ length: indices.length }, (_, k) => lane * block + k));
    }
  });

  it('throws the lowest index failure; by default every task still runs, with stopOnFailure none starts after a failure', async () => {
    const failing = (ran: number[]) => async (i: number) => {
      ran.push(i);
      if (i === 1) await sleep(20);
      if (i === 1 || i === 2) throw new Error(`task ${i}`);
      return i;
    };
    const all: number[] = [];
    await expect(inOrder(6, 2, failing(all))).rejects.toThrow('task 1');
    expect(all.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const stopped: number[] = [];
    await expect(inOrder(6, 2, failing(stopped), { stopOnFailure: true })).rejects.toThrow('task 1');
    expect(stopped.sort()).toEqual([0, 1, 2]);
  });

  it('starts nothing more once the signal aborts, and rejects with ABORTED', async () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const error = await caught(() =>
      inOrder(10, 2, async (i) => {
        ran.push(i);
        if (i === 3) controller.abort();
        await sleep(1);
      }, { signal: controller.signal }),
    );
    expect(error.code).toBe('ABORTED');
    expect(ran.length).toBeLessThanOrEqual(5);
  });
});
