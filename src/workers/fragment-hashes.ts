import { createSHA256, type IHasher } from 'hash-wasm';
import { InputInvalidError } from '../core/errors.js';

/** An object's bytes around its payload: head and sealed frame prefix before, sealed tail after. */
export interface HashedObject {
  readonly head: Uint8Array;
  readonly sealedPrefix: Uint8Array;
  readonly payloadStart: number;
  readonly payloadEnd: number;
  readonly sealedTail: readonly Uint8Array[];
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The base64 SHA-256 of each object (the catalog's per-fragment hash, S3's x-amz-checksum-sha256),
 * computed from the sealed envelope's bytes as protect produces them, so no fragment is read again to
 * hash it. The pool finishes segments in any order: pieces that arrive ahead of the next expected offset
 * wait here (a few segments at most, as every lane pulls the next segment in order) and are hashed once
 * the gap before them is filled. hash-wasm: WebCrypto has no incremental digest.
 */
export class FragmentHashes {
  private next = 0;
  private readonly waiting = new Map<number, Uint8Array>();

  private constructor(
    private readonly objects: readonly HashedObject[],
    private readonly hashers: readonly IHasher[],
  ) {}

  static async create(objects: readonly HashedObject[]): Promise<FragmentHashes> {
    const hashers = await Promise.all(objects.map(() => createSHA256()));
    objects.forEach((o, i) => hashers[i]!.init().update(o.head).update(o.sealedPrefix));
    return new FragmentHashes(objects, hashers);
  }

  /** Envelope bytes from `offset` on (any order; each byte exactly once). */
  add(offset: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (offset !== this.next) {
      this.waiting.set(offset, bytes);
      return;
    }
    this.hash(offset, bytes);
    for (let piece = this.waiting.get(this.next); piece; piece = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.hash(this.next, piece);
    }
  }

  /** Consecutive pieces from `offset` on (a segment's output). */
  addAll(offset: number, pieces: readonly Uint8Array[]): void {
    let at = offset;
    for (const piece of pieces) {
      this.add(at, piece);
      at += piece.length;
    }
  }

  private hash(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    for (const [i, o] of this.objects.entries()) {
      const from = Math.max(offset, o.payloadStart);
      const to = Math.min(end, o.payloadEnd);
      if (from < to) this.hashers[i]!.update(bytes.subarray(from - offset, to - offset));
    }
    this.next = end;
  }

  /** The digests, once every payload byte was added. */
  finish(): string[] {
    const missing = this.objects.some((o) => o.payloadEnd > this.next);
    if (missing || this.waiting.size > 0) throw new InputInvalidError('The fragment hashes did not see the whole envelope.', { hashedTo: this.next });
    return this.objects.map((o, i) => {
      for (const piece of o.sealedTail) this.hashers[i]!.update(piece);
      return base64(this.hashers[i]!.digest('binary'));
    });
  }
}

/** The base64 SHA-256 of pieces pushed in order (a parity object: its head, then its body block by block). */
export async function streamingHash(): Promise<{ update(bytes: Uint8Array): void; digest(): string }> {
  const hasher = (await createSHA256()).init();
  return { update: (bytes) => void hasher.update(bytes), digest: () => base64(hasher.digest('binary')) };
}
