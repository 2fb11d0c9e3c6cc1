import { describe, expect, it } from 'vitest';
import { ObjectBuffers } from '../../src/cli/object-buffers.js';

describe('object buffers a protect worker reuses between records', () => {
  it('a buffer given back is taken again for a length it holds without wasting half of it', () => {
    const pool = new ObjectBuffers();
    const a = pool.take(1000);
    a.fill(7);
    pool.give([a]);
    expect(pool.keptBytes).toBe(1000);
    const again = pool.take(600);
    expect(again.buffer).toBe(a.buffer);
    expect(again.length).toBe(600);
    expect(pool.keptBytes).toBe(0);
    // Too small for a length it cannot hold, too large for one under half of it: a new buffer each time.
    pool.give([again]);
    expect(pool.take(1001).buffer).not.toBe(a.buffer);
    expect(pool.take(499).buffer).not.toBe(a.buffer);
    expect(pool.take(500).buffer).toBe(a.buffer);
  });

  it('zeroed takes are zero even when the buffer held another record', () => {
    const pool = new ObjectBuffers();
    const a = pool.take(4096);
    a.fill(0xab);
    pool.give([a]);
    const z = pool.take(4096, true);
    expect(z.buffer).toBe(a.buffer);
    expect(z.every((b) => b === 0)).toBe(true);
  });

  it('keeps at most maxKept bytes, the smallest fitting buffer first, and never a view into a larger allocation', () => {
    const pool = new ObjectBuffers(3000);
    const [a, b, c] = [pool.take(1000), pool.take(1500), pool.take(2000)];
    pool.give([a, b, c]);
    expect(pool.keptBytes).toBe(2500); // c would pass the limit
    expect(pool.take(900).buffer).toBe(a.buffer);
    const shared = new Uint8Array(8192);
    pool.give([shared.subarray(4096)]);
    pool.give([b]); // given twice: kept once
    expect(pool.keptBytes).toBe(1500);
  });
});
