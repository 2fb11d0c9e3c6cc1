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
 * Objects up to this size are hashed by one WebCrypto digest once all their bytes have come by: it ran
 * ~5× faster than hash-wasm in a Worker (bench: "SHA-256 of 64 MiB", 515 vs 98 MiB/s) and runs off the
 * engine's thread, at the price of holding the object's pieces until then. Larger objects (records of
 * several hundred MiB) are hashed incrementally with hash-wasm, so memory stays bounded. 48 MiB: a 256 MiB
 * file in 8 objects (32 MiB and a head each) is still hashed one-shot; at 1 GiB (128 MiB objects) holding
 * a whole object would cost more memory than the issue allows (≤ 256 MiB above idle).
 */
export const ONE_SHOT_MAX_BYTES = 48 * 1024 * 1024;

/** One object's digest in progress: incremental, or pieces kept for a one-shot digest. */
interface ObjectHash {
  readonly object: HashedObject;
  readonly hasher?: IHasher | undefined;
  readonly pieces: Uint8Array[];
  digest?: Promise<string> | undefined;
}

/**
 * The base64 SHA-256 of each object (the catalog's per-fragment hash, S3's x-amz-checksum-sha256),
 * computed from the sealed envelope's bytes as protect produces them, so no fragment is read again to
 * hash it. The pool finishes segments in any order: pieces that arrive ahead of the next expected offset
 * wait here (a few segments at most, as every lane pulls the next segment in order) and are taken in
 * envelope order once the gap before them is filled.
 */
export class FragmentHashes {
  private next = 0;
  private readonly waiting = new Map<number, Uint8Array>();

  private constructor(private readonly hashes: readonly ObjectHash[]) {}

  static async create(objects: readonly HashedObject[], oneShotMax = ONE_SHOT_MAX_BYTES): Promise<FragmentHashes> {
    const hashes = await Promise.all(
      objects.map(async (object): Promise<ObjectHash> => {
        const size = object.head.length + object.sealedPrefix.length + (object.payloadEnd - object.payloadStart) + object.sealedTail.reduce((sum, p) => sum + p.length, 0);
        if (size <= oneShotMax) return { object, pieces: [object.head, object.sealedPrefix] };
        // WebCrypto has no incremental digest; hash-wasm's works in Workers.
        const hasher = (await createSHA256()).init().update(object.head).update(object.sealedPrefix);
        return { object, hasher, pieces: [] };
      }),
    );
    const out = new FragmentHashes(hashes);
    for (const h of hashes) if (h.object.payloadEnd === h.object.payloadStart) out.complete(h);
    return out;
  }

  /** Envelope bytes from `offset` on (any order; each byte exactly once). */
  add(offset: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (offset !== this.next) {
      this.waiting.set(offset, bytes);
      return;
    }
    this.take(offset, bytes);
    for (let piece = this.waiting.get(this.next); piece; piece = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      this.take(this.next, piece);
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

  private take(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    for (const h of this.hashes) {
      const { payloadStart, payloadEnd } = h.object;
      const from = Math.max(offset, payloadStart);
      const to = Math.min(end, payloadEnd);
      if (from >= to) continue;
      const part = bytes.subarray(from - offset, to - offset);
      if (h.hasher) h.hasher.update(part);
      else h.pieces.push(part);
      if (to === payloadEnd) this.complete(h);
    }
    this.next = end;
  }

  /** The object's payload is all here: its one-shot digest starts now, while protect goes on. */
  private complete(h: ObjectHash): void {
    if (h.hasher) {
      const hasher = h.hasher;
      for (const piece of h.object.sealedTail) hasher.update(piece);
      h.digest = Promise.resolve(base64(hasher.digest('binary')));
      return;
    }
    const parts = [...h.pieces, ...h.object.sealedTail];
    h.pieces.length = 0;
    h.digest = oneShotHash(parts);
    h.digest.catch(() => {});
  }

  /** The digests, once every payload byte was added. */
  async finish(): Promise<string[]> {
    if (this.waiting.size > 0 || this.hashes.some((h) => !h.digest)) throw new InputInvalidError('The fragment hashes did not see the whole envelope.', { hashedTo: this.next });
    return Promise.all(this.hashes.map((h) => h.digest!));
  }
}

/** The base64 SHA-256 of `parts` in order, by one WebCrypto digest (off this thread; see ONE_SHOT_MAX_BYTES). */
export function oneShotHash(parts: readonly Uint8Array[]): Promise<string> {
  const whole = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    whole.set(p, at);
    at += p.length;
  }
  return crypto.subtle.digest('SHA-256', whole).then((d) => base64(new Uint8Array(d)));
}

/** The base64 SHA-256 of pieces pushed in order (a parity object: its head, then its body block by block). */
export async function streamingHash(): Promise<{ update(bytes: Uint8Array): void; digest(): string }> {
  const hasher = (await createSHA256()).init();
  return { update: (bytes) => void hasher.update(bytes), digest: () => base64(hasher.digest('binary')) };
}
