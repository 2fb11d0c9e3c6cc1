import { describe, expect, it } from 'vitest';
import { DISK_SINK_MIN_BYTES, resultSink } from '../../../src/services/result-sink.js';

const copies = (answer: boolean) => async () => answer;

describe('where results go (resultSink, the one owner)', () => {
  it('keeps small results in memory and honours an explicit choice', async () => {
    expect(await resultSink('open', DISK_SINK_MIN_BYTES - 1, 'auto', copies(true))).toBe('memory');
    expect(await resultSink('protect', DISK_SINK_MIN_BYTES - 1, 'auto', copies(true))).toBe('memory');
    expect(await resultSink('protect', 10, 'disk', copies(false))).toBe('disk');
    expect(await resultSink('open', DISK_SINK_MIN_BYTES * 4, 'memory', copies(true))).toBe('memory');
  });

  it('puts a large opened file on disk, and large fragments only where IndexedDB copies stored Blobs', async () => {
    expect(await resultSink('open', DISK_SINK_MIN_BYTES, 'auto', copies(false))).toBe('disk');
    expect(await resultSink('protect', DISK_SINK_MIN_BYTES, 'auto', copies(true))).toBe('disk');
    expect(await resultSink('protect', DISK_SINK_MIN_BYTES, undefined, copies(false))).toBe('memory');
  });
});
