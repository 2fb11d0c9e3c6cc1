/**
 * Reference WRITER of EHR Vault record format version 2, written from docs/FORMAT.md alone (not from
 * src/), for the reference reader's own tests. Deterministic: every random value (§12 `random`) is an
 * input. `WriterTweaks` let a test build records that break the format at one chosen place while
 * everything else stays authentic (a faulty or hostile writer that holds K and S, §9).
 */
import { createCipheriv } from 'node:crypto';
import {
  bodyLength as padmeBodyLength,
  chunkCount,
  ctrTransform,
  deriveRecordKeyKeys,
  deriveSequenceKeys,
  frameMac,
  headAad,
  keyCommitment,
  objectName,
  segmentNonce,
  sequenceCheckValue,
  deriveParityKey,
  parityRow,
  HEAD_LENGTH,
  type KdfParams,
  type RecordKeyKeys,
  type SequenceKeys,
} from './reference-decoder.js';

export interface WriterInput {
  readonly recordKey: Uint8Array;
  readonly recordId: Uint8Array;
  readonly sequenceKey: string;
  readonly metadata: Record<string, unknown>;
  readonly body: Uint8Array;
  readonly chunkSize: number;
  readonly kdf: KdfParams;
  /** §3: the batch's KDF salt (16 bytes), the envelope's nonce prefix, one head nonce per slot. */
  readonly random: { readonly kdfSalt: Uint8Array; readonly noncePrefix: Uint8Array; readonly headNonces: readonly Uint8Array[] };
  /** §4.4: parity objects p (default 0). */
  readonly parity?: number;
}

/** The 64 bytes of head fields of §4.1 (all of them, so a tweak can set any). */
export interface HeadFields {
  version: number;
  kind: number;
  n: number;
  p: number;
  slot: number;
  kdf: number;
  parallelism: number;
  passes: number;
  memoryKiB: number;
  bodyLength: bigint;
  check: Buffer;
  parityAlgorithm: number;
  reserved: Buffer;
  kdfSalt: Buffer;
}

/** The parts of a §8 frame that its mac covers, plus the payload. */
export interface FrameParts {
  own: Buffer;
  n: number;
  i: number;
  payload: Buffer;
  next: Buffer;
}

export interface EnvelopeHeaderFields {
  magic: Buffer;
  version: number;
  algorithm: number;
  flags: number;
  chunkSize: number;
  metadataSegmentLength: number;
  noncePrefix: Buffer;
  reserved: number;
}

export interface WriterTweaks {
  /** raw JSON text of the metadata instead of the canonical serialisation (§6) */
  readonly metadataJson?: string;
  /** change the metadata block (u32 L ‖ JSON ‖ zeros) before it is encrypted */
  readonly metadataBlock?: (block: Buffer) => Buffer;
  /** change envelope header fields before the key commitment is computed */
  readonly envelopeHeader?: (fields: EnvelopeHeaderFields) => EnvelopeHeaderFields;
  /** change the envelope after encryption, before it is split */
  readonly envelope?: (envelope: Buffer) => Buffer;
  /** change the payload split: payloads[i] for i = 0 … n − 1 */
  readonly payloads?: (payloads: Buffer[]) => Buffer[];
  /** change a frame's parts before its mac is computed (the mac stays authentic) */
  readonly frameParts?: (i: number, parts: FrameParts) => FrameParts;
  /** change a frame after its mac (breaks it) */
  readonly frame?: (i: number, frame: Buffer) => Buffer;
  /** B instead of 52 + ⌈Padmé(T)/n⌉ */
  readonly bodyLength?: bigint;
  /** change head fields of object j before sealing */
  readonly headFields?: (j: number, fields: HeadFields) => HeadFields;
  /** change the plaintext of body j (frame ‖ zeros) before AES-CTR */
  readonly bodyPlain?: (j: number, plain: Buffer) => Buffer;
}

export interface Written {
  readonly objects: Buffer[];
  readonly envelope: Buffer;
  readonly objectNames: string[];
  readonly recordKeyKeys: RecordKeyKeys;
  readonly sequenceKeys: SequenceKeys;
  readonly bodyLength: bigint;
  /** envelope offsets of the payloads */
  readonly payloadOffsets: number[];
  readonly metadataSegmentLength: number;
}

const ascii = (s: string) => Buffer.from(s, 'latin1');

/** §6: canonical member order kind, name, mime, byteLength, image (width, height, pixelFormat, frames), bodyEncoding, contentLength, createdAt. */
export function serialiseMetadata(metadata: Record<string, unknown>): string {
  const ordered: Record<string, unknown> = {};
  for (const key of ['kind', 'name', 'mime', 'byteLength', 'image', 'bodyEncoding', 'contentLength', 'createdAt']) {
    const value = metadata[key];
    if (value === undefined) continue;
    if (key === 'image' && typeof value === 'object' && value !== null) {
      const image = value as Record<string, unknown>;
      const orderedImage: Record<string, unknown> = {};
      for (const k of ['width', 'height', 'pixelFormat', 'frames']) if (image[k] !== undefined) orderedImage[k] = image[k];
      ordered[key] = orderedImage;
    } else {
      ordered[key] = value;
    }
  }
  return JSON.stringify(ordered);
}

/**
 * §6: u32 L ‖ JSON ‖ zeros up to the next multiple of 256 (at least 256).
 * SPEC-GAP (writer side): when 4 + L is already a multiple of 256, no padding is added.
 */
export function metadataBlock(json: string): Buffer {
  const bytes = Buffer.from(json, 'utf8');
  const length = Math.max(256, Math.ceil((4 + bytes.length) / 256) * 256);
  const block = Buffer.alloc(length);
  block.writeUInt32BE(bytes.length, 0);
  bytes.copy(block, 4);
  return block;
}

/** §5: the 56 header bytes with the key commitment. */
export function envelopeHeader(kCommit: Uint8Array, f: EnvelopeHeaderFields): Buffer {
  const h = Buffer.alloc(56);
  f.magic.copy(h, 0, 0, 4);
  h[4] = f.version;
  h[5] = f.algorithm;
  h.writeUInt16BE(f.flags, 6);
  h.writeUInt32BE(f.chunkSize, 8);
  h.writeUInt32BE(f.metadataSegmentLength, 12);
  f.noncePrefix.copy(h, 16, 0, 7);
  h[23] = f.reserved;
  keyCommitment(kCommit, h).copy(h, 24);
  return h;
}

function gcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** §7: header ‖ metadata segment ‖ body chunks. */
export function buildEnvelope(kEnc: Uint8Array, header: Buffer, block: Buffer, body: Uint8Array, chunkSize: number): Buffer {
  const prefix = header.subarray(16, 23);
  const parts: Buffer[] = [header, gcmSeal(kEnc, segmentNonce(prefix, 0, false), block, header)];
  const m = Number(chunkCount(BigInt(body.length), BigInt(chunkSize)));
  for (let i = 0; i < m; i++) {
    const chunk = body.subarray(i * chunkSize, Math.min((i + 1) * chunkSize, body.length));
    parts.push(gcmSeal(kEnc, segmentNonce(prefix, i + 1, i === m - 1), chunk, header));
  }
  return Buffer.concat(parts);
}

/** §8: payload i = envelope[⌊i·T/n⌋, ⌊(i+1)·T/n⌋). */
export function splitEnvelope(envelope: Buffer, n: number): Buffer[] {
  const t = BigInt(envelope.length);
  const cut = (i: number) => Number((BigInt(i) * t) / BigInt(n));
  return Array.from({ length: n }, (_, i) => envelope.subarray(cut(i), cut(i + 1)));
}

/** §8: frame = own ‖ u16 n ‖ u16 i ‖ u64 len ‖ payload ‖ next ‖ mac (the mac over the parts given). */
export function buildFrame(kFrag: Uint8Array, parts: FrameParts, macParts: FrameParts = parts): Buffer {
  const fields = Buffer.alloc(12);
  fields.writeUInt16BE(parts.n, 0);
  fields.writeUInt16BE(parts.i, 2);
  fields.writeBigUInt64BE(BigInt(parts.payload.length), 4);
  const mac = frameMac(kFrag, macParts.own, macParts.n, macParts.i, BigInt(macParts.payload.length), macParts.next);
  return Buffer.concat([parts.own, fields, parts.payload, parts.next, mac]);
}

/** §4.1: the 64 head-field bytes. */
export function headFieldBytes(f: HeadFields): Buffer {
  const b = Buffer.alloc(64);
  b[0] = f.version;
  b[1] = f.kind;
  b.writeUInt16BE(f.n, 2);
  b.writeUInt16BE(f.p, 4);
  b.writeUInt16BE(f.slot, 6);
  b[8] = f.kdf;
  b[9] = f.parallelism;
  b.writeUInt16BE(f.passes, 10);
  b.writeUInt32BE(f.memoryKiB, 12);
  b.writeBigUInt64BE(f.bodyLength, 16);
  f.check.copy(b, 24, 0, 16);
  b[40] = f.parityAlgorithm;
  f.reserved.copy(b, 41, 0, 7);
  f.kdfSalt.copy(b, 48, 0, 16);
  return b;
}

/** §4.1: head = nonce ‖ AES-GCM(K_head, nonce, fields, AAD = "EHRV2 object-head" ‖ 00 ‖ R). */
export function sealHead(kHead: Uint8Array, recordId: Uint8Array, nonce: Uint8Array, fields: HeadFields): Buffer {
  return Buffer.concat([nonce, gcmSeal(kHead, nonce, headFieldBytes(fields), headAad(recordId))]);
}

/** §4.2: body_j = AES-CTR(K_wrap, u16 j ‖ 00×6 ‖ u64 0, frame ‖ zeros up to B). */
export function sealBody(kWrap: Uint8Array, j: number, plain: Buffer): Buffer {
  return ctrTransform(kWrap, j, plain);
}

/** §2–§8: write a whole record (with p parity objects, §4.4, when input.parity > 0). */
export function writeRecord(input: WriterInput, tweaks: WriterTweaks = {}): Written {
  const s = input.sequenceKey.normalize('NFC');
  const chars = Array.from(s);
  const n = chars.length;
  const recordKeyKeys = deriveRecordKeyKeys(input.recordKey);
  const keys = deriveSequenceKeys(input.recordKey, input.recordId, Buffer.from(s, 'utf8'), input.kdf, input.random.kdfSalt);
  const kdfSalt = Buffer.from(input.random.kdfSalt);

  // §6, §5, §7: the envelope.
  let block = metadataBlock(tweaks.metadataJson ?? serialiseMetadata(input.metadata));
  if (tweaks.metadataBlock) block = tweaks.metadataBlock(block);
  let headerFields: EnvelopeHeaderFields = {
    magic: ascii('EHRV'),
    version: 2,
    algorithm: 1,
    flags: 0,
    chunkSize: input.chunkSize,
    metadataSegmentLength: block.length + 16,
    noncePrefix: Buffer.from(input.random.noncePrefix),
    reserved: 0,
  };
  if (tweaks.envelopeHeader) headerFields = tweaks.envelopeHeader(headerFields);
  const header = envelopeHeader(keys.commit, headerFields);
  let envelope = buildEnvelope(keys.enc, header, block, input.body, input.chunkSize);
  if (tweaks.envelope) envelope = tweaks.envelope(envelope);

  // §8: fragments; §4.3: B.
  let payloads = splitEnvelope(envelope, n);
  if (tweaks.payloads) payloads = tweaks.payloads(payloads);
  const payloadOffsets: number[] = [];
  let offset = 0;
  for (const p of payloads) {
    payloadOffsets.push(offset);
    offset += p.length;
  }
  const b = tweaks.bodyLength ?? padmeBodyLength(envelope.length, n);
  const check = sequenceCheckValue(keys.check);
  const p = input.parity ?? 0;

  // §4: objects.
  const objects = chars.map((own, i) => {
    let parts: FrameParts = { own: Buffer.from(own, 'utf8'), n, i, payload: payloads[i]!, next: Buffer.from(chars[(i + 1) % n]!, 'utf8') };
    if (tweaks.frameParts) parts = tweaks.frameParts(i, parts);
    let frame = buildFrame(keys.frag, parts);
    if (tweaks.frame) frame = tweaks.frame(i, frame);
    let plain: Buffer = Buffer.alloc(Math.max(Number(b), frame.length));
    frame.copy(plain, 0);
    plain = plain.subarray(0, Number(b));
    if (tweaks.bodyPlain) plain = tweaks.bodyPlain(i, plain);
    let fields: HeadFields = {
      version: 2,
      kind: 0,
      n,
      p,
      slot: i,
      kdf: 1,
      parallelism: input.kdf.parallelism,
      passes: input.kdf.passes,
      memoryKiB: input.kdf.memoryKiB,
      bodyLength: b,
      check,
      parityAlgorithm: p > 0 ? 1 : 0,
      reserved: Buffer.alloc(7),
      kdfSalt,
    };
    if (tweaks.headFields) fields = tweaks.headFields(i, fields);
    const nonce = input.random.headNonces[i] ?? Buffer.alloc(12, i);
    return Buffer.concat([sealHead(recordKeyKeys.head, input.recordId, nonce, fields), sealBody(keys.wrap, i, plain)]);
  });

  // §4.4: parity rows over the stored data bodies, sealed under K_parity; heads after the data heads.
  if (p > 0) {
    const kParity = deriveParityKey(input.recordKey);
    const bodies = objects.map((o) => o.subarray(HEAD_LENGTH));
    for (let r = 0; r < p; r++) {
      const j = n + r;
      const fields: HeadFields = { version: 2, kind: 1, n, p, slot: j, kdf: 1, parallelism: input.kdf.parallelism, passes: input.kdf.passes, memoryKiB: input.kdf.memoryKiB, bodyLength: b, check, parityAlgorithm: 1, reserved: Buffer.alloc(7), kdfSalt };
      const nonce = input.random.headNonces[j] ?? Buffer.alloc(12, j);
      objects.push(Buffer.concat([sealHead(recordKeyKeys.head, input.recordId, nonce, fields), ctrTransform(kParity, j, parityRow(n, r, bodies))]));
    }
  }

  return {
    objects,
    envelope,
    objectNames: objects.map((_, j) => objectName(input.recordKey, input.recordId, j)),
    recordKeyKeys,
    sequenceKeys: keys,
    bodyLength: b,
    payloadOffsets,
    metadataSegmentLength: block.length + 16,
  };
}
