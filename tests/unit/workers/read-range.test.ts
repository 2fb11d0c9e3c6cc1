import { afterEach, describe, expect, it } from 'vitest';
import { rangeReadMode, readRange, recycleRange, setRangeReadMode } from '../../../src/workers/read-range.js';

function pattern(n: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/** A Blob whose streams are default (not byte) streams with small chunks, as Safari's before 26.4. */
class SafariLikeBlob extends Blob {
  constructor(private readonly data: Uint8Array<ArrayBuffer>) {
    super([data]);
  }
  override slice(start = 0, end = this.data.length): Blob {
    return new SafariLikeBlob(this.data.slice(start, end));
  }
  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const bytes = this.data;
    let at = 0;
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(at, at + 7_001));
        at += 7_001;
      },
    });
  }
}

afterEach(() => setRangeReadMode(undefined));

describe('readRange', () => {
  it('reads with a BYOB reader where Blob streams are byte streams', async () => {
    const data = pattern(300_000);
    const got = await readRange(new Blob([data]), 1_000, 250_000);
    expect(rangeReadMode()).toBe('byob');
    expect(got).toEqual(data.subarray(1_000, 250_000));
  });

  it('falls back to copying a default reader\'s chunks where there is no BYOB reader, reusing the buffer', async () => {
    const data = pattern(300_000);
    const blob = new SafariLikeBlob(data);
    const first = await readRange(blob, 5, 200_005);
    expect(rangeReadMode()).toBe('copy');
    expect(first).toEqual(data.subarray(5, 200_005));
    const buffer = first.buffer;
    recycleRange(first);
    const second = await readRange(blob, 100_000, 299_999);
    expect(second.buffer).toBe(buffer);
    expect(second).toEqual(data.subarray(100_000, 299_999));
  });

  it('copy mode reads a real Blob exactly, and an empty range as empty', async () => {
    setRangeReadMode('copy');
    const data = pattern(70_000);
    expect(await readRange(new Blob([data]), 3, 69_999)).toEqual(data.subarray(3, 69_999));
    expect((await readRange(new Blob([data]), 10, 10)).length).toBe(0);
    expect(rangeReadMode()).toBe('copy');
  });

  it('stops at the end of a short Blob in both modes', async () => {
    const data = pattern(1_000);
    for (const m of ['byob', 'copy'] as const) {
      setRangeReadMode(m);
      const got = await readRange(m === 'copy' ? new SafariLikeBlob(data) : new Blob([data]), 900, 2_000);
      expect(got).toEqual(data.subarray(900));
    }
  });
});
