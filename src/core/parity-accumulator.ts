import { InputInvalidError } from './errors.js';
import { wrapAt } from './object-wrap.js';
import { parityCoefficients, rsAccumulate } from './reed-solomon.js';

/** Where a data object's payload lies in the envelope and around it in its body (seal-objects.ts ObjectPlan). */
export interface AccumulatedObject {
  readonly payloadStart: number;
  readonly payloadEnd: number;
  readonly prefixLength: number;
  readonly sealedPrefix: Uint8Array;
  readonly sealedTail: readonly Uint8Array[];
}

/**
 * Parity bodies (FORMAT.md §4.4) built while the data bodies are produced, instead of read back afterwards.
 * A parity row is ⊕_j c[r][j] · body_j, and XOR does not care about order: every piece of sealed envelope
 * bytes is folded into the p rows as it comes out of the pool, in whatever order segments finish. This
 * takes the parity step off the end of protect (where it read every data body again and ran alone) and
 * costs p × B bytes of memory, so callers use it only while that is small (`fitsInMemory`).
 */
export class ParityAccumulator {
  private readonly rows: Uint8Array[];
  private readonly coefficients: Uint8Array[];
  private folded = 0;

  constructor(
    private readonly n: number,
    private readonly p: number,
    private readonly bodyLength: number,
    private readonly objects: readonly AccumulatedObject[],
  ) {
    if (objects.length !== n) throw new InputInvalidError('Parity needs one placement per data object.', { n, objects: objects.length });
    this.rows = Array.from({ length: p }, () => new Uint8Array(bodyLength));
    // Column j of the parity rows: the coefficients data object j is multiplied by, one per parity row.
    this.coefficients = Array.from({ length: n }, (_, j) => parityCoefficients(n, p, j));
    for (const [j, o] of objects.entries()) {
      this.fold(j, 0, o.sealedPrefix);
      let at = o.prefixLength + (o.payloadEnd - o.payloadStart);
      for (const piece of o.sealedTail) {
        this.fold(j, at, piece);
        at += piece.length;
      }
    }
  }

  /** p × B bytes: what holding the rows costs. */
  static bytesNeeded(p: number, bodyLength: number): number {
    return p * bodyLength;
  }

  /** Sealed envelope bytes from `offset` on (any order; each byte once). */
  add(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    for (const [j, o] of this.objects.entries()) {
      const from = Math.max(o.payloadStart, offset);
      const to = Math.min(o.payloadEnd, end);
      if (from >= to) continue;
      this.fold(j, o.prefixLength + (from - o.payloadStart), bytes.subarray(from - offset, to - offset));
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

  /**
   * The p sealed parity bodies, each in pieces of at most `pieceBytes` (sealed with K_parity at their
   * offsets, §4.4). Throws unless every byte of every data body was folded in exactly once.
   */
  async finish(parityKey: CryptoKey, pieceBytes = 4 * 1024 * 1024): Promise<Uint8Array[][]> {
    if (this.folded !== this.n * this.bodyLength) throw new InputInvalidError('Parity was given the wrong number of bytes.', { expected: this.n * this.bodyLength, actual: this.folded });
    return Promise.all(
      this.rows.map(async (row, r) => {
        const pieces: Promise<Uint8Array>[] = [];
        for (let at = 0; at < row.length; at += pieceBytes) pieces.push(wrapAt(parityKey, this.n + r, at, row.subarray(at, Math.min(row.length, at + pieceBytes))));
        return Promise.all(pieces);
      }),
    );
  }

  private fold(j: number, bodyOffset: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (bodyOffset < 0 || bodyOffset + bytes.length > this.bodyLength) throw new InputInvalidError('Bytes fall outside the object body.', { slot: j, bodyOffset, length: bytes.length });
    this.folded += bytes.length;
    // In place, all p rows at once (the SIMD kernel where there is one).
    rsAccumulate(this.rows, this.coefficients[j]!, bytes, bodyOffset);
  }
}
