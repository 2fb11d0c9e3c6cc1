import type { PresignedBatch, PresignedUrl, PresignObject } from './presign-client.js';

/**
 * Presigned URLs for one batch of transfers. The first request for any object presigns its whole chunk
 * (up to the service's per-request limit) in one call, which spares the service's rate limit; a refused
 * URL is dropped and re-presigned alone. A chunk whose presign failed keeps failing with the same
 * error, so one bad token costs one request, not one per fragment.
 */
export class UrlPool {
  private readonly urls = new Map<string, PresignedUrl>();
  private readonly chunks = new Map<number, Promise<void>>();
  private readonly chunkOf = new Map<string, number>();
  /** How many times each object was presigned (tests and diagnostics). */
  readonly presignCount = new Map<string, number>();

  constructor(
    private readonly names: readonly string[],
    private readonly chunkSize: number,
    private readonly prepare: (name: string) => Promise<PresignObject>,
    private readonly presign: (objects: readonly PresignObject[], signal: AbortSignal | undefined) => Promise<PresignedBatch>,
  ) {
    names.forEach((name, i) => this.chunkOf.set(name, Math.floor(i / Math.max(1, chunkSize))));
  }

  async get(name: string, signal: AbortSignal | undefined): Promise<PresignedUrl> {
    const known = this.urls.get(name);
    if (known) return known;
    const chunk = this.chunkOf.get(name);
    if (chunk === undefined) throw new Error(`UrlPool: ${name} is not part of this batch`);
    let filling = this.chunks.get(chunk);
    if (!filling) {
      filling = this.fill(this.names.slice(chunk * this.chunkSize, (chunk + 1) * this.chunkSize), signal);
      this.chunks.set(chunk, filling);
    }
    await filling;
    // Still missing: it was invalidated after its chunk came back; presign it alone.
    return this.urls.get(name) ?? this.refresh(name, signal);
  }

  /** Forgets a URL the store refused, so the next `get` presigns a fresh one. */
  invalidate(name: string): void {
    this.urls.delete(name);
  }

  private async refresh(name: string, signal: AbortSignal | undefined): Promise<PresignedUrl> {
    await this.fill([name], signal);
    const url = this.urls.get(name);
    if (!url) throw new Error(`UrlPool: no URL returned for ${name}`);
    return url;
  }

  private async fill(names: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    const objects = await Promise.all(names.map((name) => this.prepare(name)));
    const batch = await this.presign(objects, signal);
    for (const url of batch.urls) {
      this.urls.set(url.name, url);
      this.presignCount.set(url.name, (this.presignCount.get(url.name) ?? 0) + 1);
    }
  }
}
