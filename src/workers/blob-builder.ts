/**
 * Gathers a stream of byte pieces into one Blob without holding it all in the JS heap: pieces are flushed
 * into an intermediate Blob every `flushBytes` (the browser keeps Blob data outside the heap and may page
 * it to disk), and the final Blob is composed of those, which does not copy. Measured here: creating
 * Blobs has a fixed cost per call, so 32 MiB batches ran faster than 4 or 16 MiB ones.
 */
export class BlobBuilder {
  private readonly parts: Blob[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly flushBytes = 32 * 1024 * 1024) {}

  push(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= this.flushBytes) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(new Blob(this.pending as BlobPart[]));
    this.pending = [];
    this.pendingBytes = 0;
  }

  finish(type = ''): Blob {
    this.flush();
    return new Blob(this.parts, { type });
  }
}
