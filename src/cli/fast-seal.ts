import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import { checkBatch, type BatchKdf } from '../core/batch-kdf.js';
import { DEFAULT_CHUNK_SIZE, nonce, TAG_LENGTH } from '../core/envelope-header.js';
import { generateRecordKey, systemRandomBytes, type RandomBytes } from '../core/keychain.js';
import type { RecordMetadata } from '../core/metadata.js';
import { HEAD_LENGTH, OBJECT_VERSION, type HeadFields } from '../core/object-head.js';
import { generateRecordId } from '../core/object-names.js';
import { recordIdBytes } from '../core/open-objects.js';
import { objectBodyLength } from '../core/padding.js';
import { checkParityCount, PARITY_ALGORITHM_RS } from '../core/parity.js';
import { openParityRows, parityCoefficients, type ParityRows } from '../core/reed-solomon.js';
import { parseSequenceKey } from '../core/sequence-key.js';
import { envelopeHeadSync, objectNameSync, planFragmentsSync, recordKeyBytes, sealHeadSync, sequenceCheckSync, wipeRecordKeyBytes } from './node-record-crypto.js';

/**
 * Reads plaintext bytes [start, end) of the body. The returned bytes may be a view of a buffer the reader
 * reuses: they are consumed before the next call.
 */
export type BodySource = (start: number, end: number) => Promise<Uint8Array>;

export interface FastSealOptions {
  /** Parity objects p (FORMAT.md §4.4), 0 … 64. */
  readonly parity: number;
  /** Compute each object's SHA-256 (base64) while it is written. */
  readonly digests: boolean;
  /** Test vectors only: fixed keys and randomness (same order of draws as core `protectRecord`). */
  readonly recordKey?: Uint8Array | undefined;
  readonly recordId?: string | undefined;
  readonly randomBytes?: RandomBytes | undefined;
  readonly chunkSize?: number | undefined;
  /** Where the objects' bytes live (a worker's reused buffers); default new, uninitialised memory. */
  readonly allocate?: ((length: number, zeroed: boolean) => Uint8Array) | undefined;
}

export interface FastSealed {
  readonly recordKey: Uint8Array;
  readonly recordId: string;
  /** Data slots 0 … n − 1, then parity slots n … n + p − 1. */
  readonly objects: Uint8Array[];
  /** Base64 SHA-256 of each object, or '' without `digests`. */
  readonly sha256: string[];
  /** The objects' names in the store (FORMAT.md §2.3), in slot order. */
  readonly names: string[];
}

/** Plaintext bytes read (and sealed) at once when the body comes from a file: memory is this, not the file. */
export const SEGMENT_BYTES = 4 * 1024 * 1024;
const ZEROS = new Uint8Array(1024 * 1024);

/** Bytes that are written in full before anyone reads them: no zero-fill pass (the objects are 1× the record). */
function uninitialised(length: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

/** AES-128-CTR of an object body from offset 0: counter block u16 slot ‖ 00×6 ‖ u64 0 (FORMAT.md §4.2). */
function ctrFor(key: Uint8Array, slot: number): Cipher {
  const counter = new Uint8Array(16);
  counter[0] = slot >>> 8;
  counter[1] = slot & 0xff;
  return createCipheriv('aes-128-ctr', key, counter);
}

/** Where a data object's stored body bytes are folded into the parity rows as they are written. */
interface ParitySink {
  readonly rows: ParityRows;
  readonly coefficients: Uint8Array;
}

/** Writes one object front to back, sealing with its slot's keystream and hashing what it writes. */
class ObjectWriter {
  private at: number;
  private readonly hash: Hash | undefined;
  constructor(
    readonly bytes: Uint8Array,
    private readonly ctr: Cipher,
    head: Uint8Array,
    digests: boolean,
    private readonly parity?: ParitySink,
  ) {
    bytes.set(head, 0);
    this.at = HEAD_LENGTH;
    this.hash = digests ? createHash('sha256').update(head) : undefined;
  }

  seal(plain: Uint8Array): void {
    if (plain.length === 0) return;
    const out = this.ctr.update(plain);
    this.bytes.set(out, this.at);
    this.hash?.update(out);
    // Parity rows are ⊕ of every data body's contribution (§4.4): folded in while the bytes are in cache.
    if (this.parity) this.parity.rows.accumulate(this.parity.coefficients, out, this.at - HEAD_LENGTH);
    this.at += out.length;
  }

  /** Zero padding to the end of the body (§4.3), sealed. */
  pad(): void {
    while (this.at < this.bytes.length) this.seal(ZEROS.subarray(0, Math.min(ZEROS.length, this.bytes.length - this.at)));
    this.ctr.final();
  }

  digest(): string {
    return this.hash ? this.hash.digest('base64') : '';
  }
}

/**
 * A second writer of FORMAT.md §4–§8 for the command line, on node:crypto: Node's WebCrypto runs every call on
 * the libuv pool with copies in and out, which made AES the CLI's bottleneck (docs/CLI.md, throughput).
 * Here each AES-GCM chunk is sealed in one synchronous pass and streamed through the AES-CTR keystream of the
 * object its bytes belong to, which is written (and hashed) front to back: the envelope is never assembled,
 * the body is read a segment at a time, and the objects are the only record-sized memory. Heads, frame MACs,
 * the key commitment and the metadata segment are small and come from the core unchanged. Same bytes as core
 * `protectRecord` for the same randomness: tests/cli/fast-seal.test.ts runs every positive vector through it.
 */
export async function fastSeal(metadata: RecordMetadata, sequenceKey: string, batch: BatchKdf, body: BodySource, o: FastSealOptions): Promise<FastSealed> {
  const key = parseSequenceKey(sequenceKey);
  checkBatch(batch, key);
  checkParityCount(o.parity);
  const random = o.randomBytes ?? systemRandomBytes;
  const recordKey = o.recordKey ?? generateRecordKey(random);
  const recordId = o.recordId ?? generateRecordId(random);
  const id = recordIdBytes(recordId);
  // Every key as bytes for node:crypto, in this thread, synchronously (node-record-crypto.ts: the core's
  // WebCrypto calls were most of a small record's cost); wiped when the record is sealed.
  const keys = recordKeyBytes(recordKey, id, batch.stretched);
  const { encryption, wrap } = keys;
  let parityRows: ParityRows | undefined;
  try {
    // The nonce prefix is drawn first, then one head nonce per slot in slot order, as protectRecord does.
    // Each body chunk below takes its own counter (1 … chunkCount) once, under this record's own key (§7).
    const sealer = envelopeHeadSync(keys, metadata, random, o.chunkSize ?? DEFAULT_CHUNK_SIZE);
    const envelopeLength = sealer.totalLength;
    const n = key.n;
    const p = o.parity;
    const bodyLength = objectBodyLength(envelopeLength, n);
    const fragments = planFragmentsSync(keys.fragments, key, envelopeLength);
    const check = sequenceCheckSync(keys.check);
    const head = (kind: HeadFields['kind'], slot: number) =>
      sealHeadSync(keys.head, id, { version: OBJECT_VERSION, kind, n, parityCount: p, slot, kdf: batch.kdf, bodyLength, check, parityAlgorithm: p > 0 ? PARITY_ALGORITHM_RS : 0, kdfSalt: batch.salt }, random);
    const heads = Array.from({ length: n + p }, (_, slot) => head(slot < n ? 'data' : 'parity', slot));
    const { chunkSize, noncePrefix, bytes: headerBytes } = sealer.header;

    // The RS rows are folded into where the SIMD kernel works (reed-solomon.ts openParityRows), then copied
    // into the parity objects' bodies and sealed there in place.
    const allocate = o.allocate ?? ((length: number, zeroed: boolean) => (zeroed ? new Uint8Array(length) : uninitialised(length)));
    parityRows = p > 0 ? openParityRows(p, bodyLength) : undefined;
    const rows = parityRows;
    const parityObjects = Array.from({ length: p }, () => allocate(HEAD_LENGTH + bodyLength, false));
    const writers: ObjectWriter[] = [];
    let slot = -1;
    let slotEnd = 0;
    let envelopeAt = 0;
    const next = () => {
      if (slot >= 0) {
        writers[slot]!.seal(fragments[slot]!.suffix);
        writers[slot]!.pad();
      }
      slot++;
      if (slot >= n) return;
      const sink = rows ? { rows, coefficients: parityCoefficients(n, p, slot) } : undefined;
      const w = new ObjectWriter(allocate(HEAD_LENGTH + bodyLength, false), ctrFor(wrap, slot), heads[slot]!, o.digests, sink);
      w.seal(fragments[slot]!.prefix);
      writers.push(w);
      slotEnd = fragments[slot]!.payloadEnd;
    };
    // Envelope bytes in order: each goes to the payload of the fragment that holds it (§8: consecutive ranges).
    const route = (bytes: Uint8Array) => {
      let from = 0;
      while (from < bytes.length) {
        while (envelopeAt >= slotEnd) next();
        const take = Math.min(bytes.length - from, slotEnd - envelopeAt);
        writers[slot]!.seal(bytes.subarray(from, from + take));
        from += take;
        envelopeAt += take;
      }
    };
    next();
    route(sealer.head);
    const chunksPerSegment = Math.max(1, Math.floor(SEGMENT_BYTES / chunkSize));
    for (let first = 0; first < sealer.chunkCount; first += chunksPerSegment) {
      const last = Math.min(sealer.chunkCount, first + chunksPerSegment);
      const start = first * chunkSize;
      const plain = await body(start, start + (last - first - 1) * chunkSize + sealer.chunkPlaintextLength(last - 1));
      for (let i = first; i < last; i++) {
        const gcm = createCipheriv('aes-128-gcm', encryption, nonce(noncePrefix, i + 1, i === sealer.chunkCount - 1), { authTagLength: TAG_LENGTH });
        gcm.setAAD(headerBytes);
        route(gcm.update(plain.subarray((i - first) * chunkSize, (i - first) * chunkSize + sealer.chunkPlaintextLength(i))));
        gcm.final();
        route(gcm.getAuthTag());
      }
    }
    while (slot < n) next();

    // Parity (§4.4): the rows are complete; seal each with K_parity into its own object, in place.
    if (p > 0) {
      const parityKey = keys.parity;
      for (const [r, object] of parityObjects.entries()) {
        const body = object.subarray(HEAD_LENGTH);
        rows!.copyRow(r, body);
        const w = new ObjectWriter(object, ctrFor(parityKey, n + r), heads[n + r]!, o.digests);
        for (let at = 0; at < bodyLength; at += ZEROS.length) w.seal(body.subarray(at, Math.min(bodyLength, at + ZEROS.length)));
        w.pad();
        writers.push(w);
      }
    }
    const names = writers.map((_, j) => objectNameSync(keys.objectNames, recordId, j));
    return { recordKey, recordId, objects: writers.map((w) => w.bytes), sha256: writers.map((w) => w.digest()), names };
  } finally {
    parityRows?.release();
    wipeRecordKeyBytes(keys);
  }
}

/** A body already in memory. */
export function bytesSource(bytes: Uint8Array): BodySource {
  return async (start, end) => bytes.subarray(start, end);
}
