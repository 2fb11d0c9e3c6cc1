/**
 * Object buffers kept by a protect worker between records. Allocating every record's objects afresh cost a
 * page fault per 4 KiB, and, counted as external memory, major GCs in whichever thread held them last
 * (bench:cli, perf: ~0.8 ms of CPU per MiB protected). A record's objects are written or uploaded by the
 * worker that sealed them (worker-pool.ts) and their buffers come back here for the next record.
 */
export class ObjectBuffers {
  private free: ArrayBuffer[] = [];
  private kept = 0;

  /**
   * @param maxKept bytes kept for reuse at most, per worker (memory stays bounded whatever the records' sizes
   * and however many cores run workers): five 16 MiB records' objects, more than a worker reuses at once.
   */
  constructor(private readonly maxKept = 96 * 1024 * 1024) {}

  /**
   * `length` bytes, uninitialised unless `zeroed`: the smallest kept buffer that holds them without wasting
   * more than half of it, else a new one (not zero-filled: the writer fills every byte).
   */
  take(length: number, zeroed = false): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.byteLength;
      if (size >= length && size <= length * 2 && (best < 0 || size < this.free[best]!.byteLength)) best = i;
    }
    let view: Uint8Array;
    if (best >= 0) {
      const [buffer] = this.free.splice(best, 1);
      this.kept -= buffer!.byteLength;
      view = new Uint8Array(buffer!, 0, length);
      if (zeroed) view.fill(0);
    } else if (zeroed) {
      view = new Uint8Array(length);
    } else {
      const b = Buffer.allocUnsafeSlow(length);
      view = new Uint8Array(b.buffer, b.byteOffset, length);
    }
    return view;
  }

  /** Buffers whose bytes are no longer needed (written, uploaded, or a record given up). */
  give(views: readonly Uint8Array[]): void {
    for (const v of views) {
      const buffer = v.buffer as ArrayBuffer;
      // A view of part of a larger allocation, or a buffer already handed to another thread, is not kept.
      if (v.byteOffset !== 0 || buffer.byteLength === 0 || this.free.includes(buffer)) continue;
      if (this.kept + buffer.byteLength > this.maxKept) continue;
      this.free.push(buffer);
      this.kept += buffer.byteLength;
    }
  }

  /** Bytes kept for reuse now (tests). */
  get keptBytes(): number {
    return this.kept;
  }
}
