/**
 * Re-cuts a stream of arbitrary pieces into pieces of exact sizes. It hands out views into the pieces it
 * was given whenever a requested size lies inside one piece, and copies only across piece boundaries, so a
 * reader that supplies 16 MiB pieces gets 512 KiB chunks without any copying.
 */
export class ByteQueue {
  private pieces: Uint8Array[] = [];
  private headOffset = 0;
  private queued = 0;

  get length(): number {
    return this.queued;
  }

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.queued += piece.length;
  }

  /** Removes and returns exactly `size` bytes, or returns undefined if fewer are queued. */
  take(size: number): Uint8Array | undefined {
    if (size > this.queued) return undefined;
    if (size === 0) return new Uint8Array(0);
    const head = this.pieces[0]!;
    if (head.length - this.headOffset >= size) {
      const view = head.subarray(this.headOffset, this.headOffset + size);
      this.advance(size);
      return view;
    }
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const piece = this.pieces[0]!;
      const n = Math.min(piece.length - this.headOffset, size - filled);
      out.set(piece.subarray(this.headOffset, this.headOffset + n), filled);
      filled += n;
      this.advance(n);
    }
    return out;
  }

  private advance(n: number): void {
    this.headOffset += n;
    this.queued -= n;
    if (this.headOffset === this.pieces[0]!.length) {
      this.pieces.shift();
      this.headOffset = 0;
    }
  }
}

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
