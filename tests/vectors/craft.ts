/**
 * A writer with seams, built from src/core's parts, for vectors and tests that need records which break
 * the format at one chosen place while everything else stays authentic — what only a faulty or hostile
 * writer holding the record key (and the sequence key) could make (FORMAT.md §9 steps 5–8, 12–14).
 */
import {
  asBufferSource,
  buildFrame,
  concatBytes,
  deriveKeysForProtect,
  encodeHeadFields,
  encodeMetadataBlock,
  fromHex,
  hmacSha256,
  objectBodyLength,
  parseSequenceKey,
  payloadRange,
  sequenceCheck,
  stretchForBatch,
  utf8Encoder,
  wrapAt,
  writeU16,
  writeU32,
  type FrameFields,
  type HeadFields,
  type KdfParams,
  type RecordKeys,
  type RecordMetadata,
} from '../../src/core/index.js';
import { recordIdBytes } from '../../src/core/open-objects.js';

export interface CraftInput {
  readonly recordKey: string;
  readonly recordId: string;
  readonly sequenceKey: string;
  readonly kdf: KdfParams;
  /** The batch's Argon2id salt (FORMAT.md §3), hex. */
  readonly kdfSalt: string;
  readonly chunkSize: number;
  readonly metadata: RecordMetadata;
  readonly plaintext: Uint8Array;
  readonly noncePrefix: string;
  readonly headNonces: readonly string[];
}

export interface CraftSeams {
  /** Changes envelope header fields before the commitment is computed over them (it stays authentic). */
  readonly header?: ((header: Uint8Array) => void) | undefined;
  /** Replaces the metadata block's JSON text (then padded as §6 says). */
  readonly metadataJson?: string | undefined;
  /** Cuts (negative) or extends with zero bytes (positive) the envelope before splitting. */
  readonly envelopeDelta?: number | undefined;
  /** Adds to the canonical body length B. */
  readonly bodyLengthDelta?: number | undefined;
  /** Changes head fields of one slot (or all with `slot: 'all'`). */
  readonly head?: { readonly slot: number | 'all'; readonly change: (fields: HeadFieldsDraft) => void } | undefined;
  /** Changes an authentic frame's fields (its MAC is computed over the changed fields). */
  readonly frame?: { readonly slot: number; readonly change: (fields: FrameDraft) => void } | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type HeadFieldsDraft = Mutable<HeadFields> & { reservedByte?: number };
export type FrameDraft = Mutable<FrameFields>;

function nonce(prefix: Uint8Array, counter: number, last: boolean): Uint8Array {
  const out = new Uint8Array(12);
  out.set(prefix, 0);
  writeU32(out, 7, counter);
  out[11] = last ? 1 : 0;
  return out;
}

async function gcm(key: CryptoKey, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: asBufferSource(iv), additionalData: asBufferSource(aad) }, key, asBufferSource(plain)));
}

/** The envelope of §5–§7, with seams for the header and the metadata. */
async function craftEnvelope(keys: RecordKeys, input: CraftInput, seams: CraftSeams): Promise<Uint8Array> {
  const C = input.chunkSize;
  const block = seams.metadataJson === undefined ? encodeMetadataBlock(input.metadata) : rawBlock(seams.metadataJson);
  const header = new Uint8Array(56);
  header.set([0x45, 0x48, 0x52, 0x56, 2, 1, 0, 0]);
  writeU32(header, 8, C);
  writeU32(header, 12, block.length + 16);
  header.set(fromHex(input.noncePrefix), 16);
  seams.header?.(header);
  header.set(await hmacSha256(keys.commitment, header.subarray(0, 24)), 24);
  const prefix = header.subarray(16, 23);
  const parts = [header, await gcm(keys.encryption, nonce(prefix, 0, false), header, block)];
  const body = input.plaintext;
  const m = Math.max(1, Math.ceil(body.length / C));
  for (let i = 0; i < m; i++) parts.push(await gcm(keys.encryption, nonce(prefix, i + 1, i === m - 1), header, body.subarray(i * C, Math.min(body.length, (i + 1) * C))));
  return concatBytes(parts);
}

function rawBlock(json: string): Uint8Array {
  const text = utf8Encoder.encode(json);
  const block = new Uint8Array(Math.ceil((4 + text.length) / 256) * 256);
  writeU32(block, 0, text.length);
  block.set(text, 4);
  return block;
}

/** Seals one head with the given nonce (vectors fix every random value). */
async function craftHead(keys: RecordKeys, recordId: Uint8Array, fields: HeadFieldsDraft, nonceHex: string): Promise<Uint8Array> {
  const plain = encodeHeadFields(fields);
  if (fields.reservedByte !== undefined) plain[47] = fields.reservedByte;
  // encodeHeadFields writes the KDF id as 1; a draft may carry another through `kdfId`.
  const draft = fields as HeadFieldsDraft & { kdfId?: number };
  if (draft.kdfId !== undefined) plain[8] = draft.kdfId;
  const aad = concatBytes([utf8Encoder.encode('EHRV2 object-head\0'), recordId]);
  return concatBytes([fromHex(nonceHex), await gcm(keys.head, fromHex(nonceHex), aad, plain)]);
}

export interface Crafted {
  readonly objects: Uint8Array[];
  readonly envelope: Uint8Array;
  readonly keys: RecordKeys;
}

/** Writes a record exactly as §4–§8 say, except where a seam changes it. */
export async function craftRecord(input: CraftInput, seams: CraftSeams = {}): Promise<Crafted> {
  const key = parseSequenceKey(input.sequenceKey);
  const recordKey = fromHex(input.recordKey);
  const recordId = recordIdBytes(input.recordId);
  const keys = await deriveKeysForProtect(recordKey, input.recordId, key, await stretchForBatch(key, input.kdf, { salt: fromHex(input.kdfSalt) }));
  let envelope = await craftEnvelope(keys, input, seams);
  const delta = seams.envelopeDelta ?? 0;
  if (delta < 0) envelope = envelope.slice(0, envelope.length + delta);
  if (delta > 0) envelope = concatBytes([envelope, new Uint8Array(delta)]);
  const T = envelope.length;
  const n = key.n;
  const B = objectBodyLength(T, n) + (seams.bodyLengthDelta ?? 0);
  const check = await sequenceCheck(keys);
  const objects: Uint8Array[] = [];
  for (let slot = 0; slot < n; slot++) {
    const { start, end } = payloadRange(T, n, slot);
    const fields: FrameDraft = { indexChar: key.chars[slot]!, nextChar: key.chars[(slot + 1) % n]!, n, position: slot, payloadLength: end - start };
    if (seams.frame?.slot === slot) seams.frame.change(fields);
    const { prefix, suffix } = await buildFrame(keys, fields);
    const plain = new Uint8Array(B);
    plain.set(concatBytes([prefix, envelope.subarray(start, end), suffix]).subarray(0, B), 0);
    const head: HeadFieldsDraft = { version: 2, kind: 'data', n, parityCount: 0, slot, kdf: input.kdf, bodyLength: B, check, parityAlgorithm: 0, kdfSalt: keys.kdfSalt };
    if (seams.head && (seams.head.slot === 'all' || seams.head.slot === slot)) seams.head.change(head);
    objects.push(concatBytes([await craftHead(keys, recordId, head, input.headNonces[slot]!), await wrapAt(keys.wrap, slot, 0, plain)]));
  }
  return { objects, envelope, keys };
}

/** A u16 written into a copy, for header seams. */
export function setU16(bytes: Uint8Array, offset: number, value: number): void {
  writeU16(bytes, offset, value);
}
