import { InputInvalidError } from '../core/errors.js';
import type { FragmentPiece } from '../core/split-stream.js';

/**
 * Collects fragment pieces into Blobs. Pieces are flushed into an intermediate Blob every `flushBytes`, so
 * the worker never holds more than that much ciphertext in its own heap: the browser keeps Blob data
 * outside the JS heap (and may page it to disk), and composing Blobs of Blobs does not copy.
 */
export class FragmentBlobSink {
  private readonly parts: Blob[][];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly done: (Blob | undefined)[];

  constructor(
    count: number,
    private readonly type = 'application/octet-stream',
    private readonly flushBytes = 16 * 1024 * 1024,
  ) {
    this.parts = Array.from({ length: count }, () => []);
    this.done = new Array<Blob | undefined>(count);
  }

  push(piece: FragmentPiece): void {
    this.pending.push(piece.bytes);
    this.pendingBytes += piece.bytes.length;
    if (piece.last || this.pendingBytes >= this.flushBytes) this.flush(piece.position);
    if (piece.last) {
      this.done[piece.position] = new Blob(this.parts[piece.position]!, { type: this.type });
      this.parts[piece.position] = [];
    }
  }

  private flush(position: number): void {
    if (this.pending.length === 0) return;
    this.parts[position]!.push(new Blob(this.pending as BlobPart[]));
    this.pending = [];
    this.pendingBytes = 0;
  }

  finish(): Blob[] {
    return this.done.map((blob, i) => {
      if (!blob) throw new InputInvalidError(`Fragment ${i} was not completed.`);
      return blob;
    });
  }
}
