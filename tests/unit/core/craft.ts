/**
 * Crafting records as a writer who holds the keys could (not a test file itself): every object authentic
 * (heads sealed with K_head, frames MAC'd with K_frag, bodies sealed with K_wrap, envelope encrypted and
 * committed), but with any head field, frame field, envelope header byte, metadata JSON or envelope length
 * a correct writer would refuse to write. This reaches the §9 steps that only a faulty or hostile writer
 * can trigger (FORMAT.md §9: steps 5–8 and 12–14), and serves as the writer for negative test vectors.
 *
 * Built from the exported pieces of src/core (encodeHeadFields/sealHead, buildFrame, wrapAt, payloadRange,
 * objectBodyLength, sequenceCheck, deriveKeysForProtect) and the envelope of FORMAT.md §5–§7 written by hand
 * (helpers.ts, buildEnvelopeFromSpec). With no override the result equals protectRecord's byte for byte
 * (fragments.test.ts checks this).
 */
import {
  HEAD_LENGTH,
  OBJECT_VERSION,
  asBufferSource,
  buildFrame,
  concatBytes,
  deriveKeysForProtect,
  encodeHeadFields,
  encodeMetadataBlock,
  generateRecordId,
  objectBodyLength,
  parseSequenceKey,
  payloadRange,
  recordIdBytes,
  sealHead,
  sequenceCheck,
  stretchForBatch,
  systemRandomBytes,
  utf8Encoder,
  wrapAt,
  type FrameFields,
  type HeadFields,
  type KdfParams,
  type RandomBytes,
  type RecordKeys,
  type RecordMetadata,
  type SequenceKey,
  type Stretch,
} from '../../../src/core/index.js';
import { TEST_KDF, buildEnvelopeFromSpec, fileMetadata, pseudoRandomBytes, specMetadataBlock, type SpecHeader } from './helpers.js';

export interface CraftOptions {
  /** Default 'adk21937'. */
  readonly sequenceKey?: string;
  /** Default: 16 fixed pseudo-random bytes. */
  readonly recordKey?: Uint8Array;
  /** Default: drawn from `randomBytes` (before anything else). */
  readonly recordId?: string;
  /** Default TEST_KDF (64 KiB, 1 pass). */
  readonly kdf?: KdfParams;
  readonly stretch?: Stretch;
  /** Nonce prefix (drawn first), then the head nonces in slot order: the order protectRecord draws them. */
  readonly randomBytes?: RandomBytes;
  /** Default: 1000 pseudo-random bytes. */
  readonly body?: Uint8Array;
  /** Default: a file record of the body's length. */
  readonly metadata?: RecordMetadata;
  /** Metadata JSON text used as is (any members, any order), or a whole metadata block. */
  readonly metadataJson?: string;
  readonly metadataBlock?: Uint8Array;
  /** Default 64. */
  readonly chunkSize?: number;
  /** Envelope header fields (the commitment is recomputed unless `recommit: false`). */
  readonly header?: SpecHeader;
  /** Cuts the envelope to, or extends it with zero bytes up to, this length; B follows it (canonical padding). */
  readonly envelopeLength?: number;
  /** Any other change to the envelope before it is split (applied after `envelopeLength`). */
  readonly envelope?: (envelope: Uint8Array) => Uint8Array;
  /** Payload of each slot (default: FORMAT.md §8's near-equal split of the envelope). */
  readonly payloads?: (envelope: Uint8Array, n: number) => Uint8Array[];
  /** Frame fields of a slot (chain characters, n, position, payload length); the MAC is computed over them. */
  readonly frame?: (slot: number, fields: FrameFields) => Partial<FrameFields> | undefined;
  /** Replaces the zero padding after a slot's frame (its plaintext, before the seal). */
  readonly padding?: (slot: number, padding: Uint8Array) => void;
  /** Head fields of an object (slot is the object's place in the output list). */
  readonly head?: (slot: number, fields: HeadFields) => Partial<HeadFields> | undefined;
  /** The 48 encoded head-field bytes of an object, changed in place before sealing (KDF id, reserved bytes, kind > 1). */
  readonly headBytes?: (slot: number, bytes: Uint8Array) => void;
  /** Body length B of every object (default: 52 + ⌈Padmé(T)/n⌉). */
  readonly bodyLength?: number;
  /** Parity objects appended after the data objects (random bodies; heads say kind 01, algorithm 01). */
  readonly parity?: number;
}

export interface CraftedRecord {
  readonly recordKey: Uint8Array;
  readonly recordId: string;
  readonly recordIdBytes: Uint8Array;
  readonly sequenceKey: SequenceKey;
  readonly kdf: KdfParams;
  readonly keys: RecordKeys;
  readonly body: Uint8Array;
  readonly metadata: RecordMetadata | undefined;
  /** The envelope the payloads were cut from (after the envelope overrides). */
  readonly envelope: Uint8Array;
  readonly bodyLength: number;
  /** Data objects in slot order, then parity objects. */
  readonly objects: Uint8Array[];
  readonly frames: FrameFields[];
  /** Where each slot's payload lies: in the envelope, and from the start of the object. */
  readonly placements: { readonly payloadStart: number; readonly payloadEnd: number; readonly objectOffset: number }[];
}

const HEAD_AAD_LABEL = utf8Encoder.encode('EHRV2 object-head\0');

/** Seals 48 raw head-field bytes exactly as FORMAT.md §4.1 says (for fields HeadFields cannot express). */
export async function sealRawHead(keys: Pick<RecordKeys, 'head'>, recordId: Uint8Array, fields: Uint8Array, nonce: Uint8Array): Promise<Uint8Array> {
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: asBufferSource(nonce), additionalData: asBufferSource(concatBytes([HEAD_AAD_LABEL, recordId])) }, keys.head, asBufferSource(fields));
  return concatBytes([nonce, new Uint8Array(sealed)]);
}

export const CRAFT_RECORD_KEY = pseudoRandomBytes(16, 7001);

export async function craftRecord(o: CraftOptions = {}): Promise<CraftedRecord> {
  const random = o.randomBytes ?? systemRandomBytes;
  const key = parseSequenceKey(o.sequenceKey ?? 'adk21937');
  const n = key.n;
  const recordKey = o.recordKey ?? CRAFT_RECORD_KEY;
  const recordId = o.recordId ?? generateRecordId(random);
  const id = recordIdBytes(recordId);
  const kdf = o.kdf ?? TEST_KDF;
  const keys = await deriveKeysForProtect(recordKey, recordId, key, await stretchForBatch(key, kdf, { randomBytes: random, stretch: o.stretch }));
  const body = o.body ?? pseudoRandomBytes(1000, 7002);
  const chunkSize = o.chunkSize ?? 64;
  const metadata = o.metadataJson !== undefined || o.metadataBlock !== undefined ? undefined : (o.metadata ?? fileMetadata(body.length));
  const block = o.metadataBlock ?? (o.metadataJson !== undefined ? specMetadataBlock(o.metadataJson) : encodeMetadataBlock(metadata!));
  let envelope = await buildEnvelopeFromSpec(keys, block, body, chunkSize, random(7), o.header);
  if (o.envelopeLength !== undefined) {
    const resized = new Uint8Array(o.envelopeLength);
    resized.set(envelope.subarray(0, Math.min(envelope.length, o.envelopeLength)));
    envelope = resized;
  }
  if (o.envelope) envelope = o.envelope(envelope);
  const T = envelope.length;
  const payloads = o.payloads
    ? o.payloads(envelope, n)
    : key.chars.map((_, i) => {
        const { start, end } = payloadRange(T, n, i);
        return envelope.subarray(start, end);
      });
  const B = o.bodyLength ?? objectBodyLength(T, n);
  const parity = o.parity ?? 0;
  const check = await sequenceCheck(keys);
  const frames: FrameFields[] = [];
  const placements: CraftedRecord['placements'] = [];
  const bodies: Uint8Array[] = [];
  let at = 0;
  for (const [slot, payload] of payloads.entries()) {
    const natural: FrameFields = { indexChar: key.chars[slot % n]!, nextChar: key.chars[(slot + 1) % n]!, n, position: slot, payloadLength: payload.length };
    const fields = { ...natural, ...o.frame?.(slot, natural) };
    frames.push(fields);
    const { prefix, suffix } = await buildFrame(keys, fields);
    const frameLength = prefix.length + payload.length + suffix.length;
    if (frameLength > B) throw new Error(`craftRecord: frame of slot ${slot} (${frameLength} bytes) does not fit in B = ${B}`);
    const padding = new Uint8Array(B - frameLength);
    o.padding?.(slot, padding);
    bodies.push(concatBytes([prefix, payload, suffix, padding]));
    placements.push({ payloadStart: at, payloadEnd: at + payload.length, objectOffset: HEAD_LENGTH + prefix.length });
    at += payload.length;
  }
  for (let k = 0; k < parity; k++) bodies.push(random(B));
  const objects: Uint8Array[] = [];
  for (const [slot, plain] of bodies.entries()) {
    const natural: HeadFields = {
      version: OBJECT_VERSION,
      kind: slot < payloads.length ? 'data' : 'parity',
      n,
      parityCount: parity,
      slot,
      kdf,
      bodyLength: B,
      check,
      parityAlgorithm: parity > 0 ? 1 : 0,
      kdfSalt: keys.kdfSalt,
    };
    const fields = { ...natural, ...o.head?.(slot, natural) };
    let head: Uint8Array;
    if (o.headBytes) {
      const raw = encodeHeadFields(fields);
      o.headBytes(slot, raw);
      head = await sealRawHead(keys, id, raw, random(12));
    } else {
      head = await sealHead(keys.head, id, fields, random);
    }
    // The keystream follows the slot the head names, as a reader unseals it (parity bodies stay random).
    const sealedBody = slot < payloads.length ? await wrapAt(keys.wrap, fields.slot, 0, plain) : plain;
    objects.push(concatBytes([head, sealedBody]));
  }
  return { recordKey, recordId, recordIdBytes: id, sequenceKey: key, kdf, keys, body, metadata, envelope, bodyLength: B, objects, frames, placements };
}

// ---------------------------------------------------------------------------------------------------------
// One scenario per reading error of FORMAT.md §9.1, for tests and negative vectors

/** What a reader is given, and what it must answer (the `expect` of a vector, §12). */
export interface ErrorScenario {
  readonly name: string;
  readonly objects: Uint8Array[];
  readonly sequenceKey: string;
  readonly recordKey: Uint8Array;
  readonly recordId: string;
  readonly expect: { readonly error: string; readonly sources?: number[]; readonly indexChars?: string[]; readonly missing?: string[] };
}

type ScenarioOptions = Pick<CraftOptions, 'stretch' | 'randomBytes' | 'recordKey' | 'recordId' | 'kdf'>;

/**
 * Builds one scenario for each code openRecord can report (§9.1 without the two text codes), on the
 * paper's key 'adk21937' and a 1000-byte body in 64-byte chunks (T = 1584, eight 198-byte payloads).
 * Pass a deterministic `randomBytes` to get the same bytes every time.
 */
export async function errorScenarios(options: ScenarioOptions = {}): Promise<ErrorScenario[]> {
  const S = 'adk21937';
  const base = await craftRecord({ ...options, sequenceKey: S });
  const o = base.objects;
  const K = base.recordKey;
  const R = base.recordId;
  const same = (name: string, objects: Uint8Array[], expect: ErrorScenario['expect'], sequenceKey = S): ErrorScenario => ({ name, objects, sequenceKey, recordKey: K, recordId: R, expect });
  const crafted = async (name: string, craft: CraftOptions, expect: ErrorScenario['expect']): Promise<ErrorScenario> => {
    const c = await craftRecord({ ...options, recordKey: K, recordId: R, sequenceKey: S, ...craft });
    return same(name, c.objects, expect);
  };
  const flip = (bytes: Uint8Array, at: number) => {
    const copy = bytes.slice();
    copy[at]! ^= 0x01;
    return copy;
  };
  const other = await craftRecord({ ...options, sequenceKey: S, recordKey: pseudoRandomBytes(16, 7003) });
  return [
    same('a sequence key with a space', o, { error: 'SEQUENCE_KEY_INVALID' }, 'adk 1937'),
    same('no objects', [], { error: 'FRAGMENT_MISSING', missing: [...S] }),
    same('an object shorter than its head', [o[0]!.subarray(0, 75), ...o.slice(1)], { error: 'FRAGMENT_TRUNCATED', sources: [0] }),
    same('objects of another record only', other.objects, { error: 'WRONG_RECORD_KEY', sources: [0, 1, 2, 3, 4, 5, 6, 7] }),
    same('one object of another record', [...o.slice(0, 3), other.objects[3]!, ...o.slice(4)], { error: 'FRAGMENT_FOREIGN', sources: [3] }),
    await crafted('a head of object version 3', { head: (slot) => (slot === 2 ? { version: 3 } : undefined) }, { error: 'FRAGMENT_UNSUPPORTED', sources: [2] }),
    await crafted('a head with a non-zero reserved byte', { headBytes: (slot, b) => void (slot === 4 && (b[47] = 1)) }, { error: 'FRAGMENT_MALFORMED', sources: [4] }),
    same('an object with one byte appended', [...o.slice(0, 5), concatBytes([o[5]!, Uint8Array.of(0)]), ...o.slice(6)], { error: 'FRAGMENT_MALFORMED', sources: [5] }),
    same('an object cut inside its body', [...o.slice(0, 6), o[6]!.subarray(0, o[6]!.length - 1), o[7]!], { error: 'FRAGMENT_TRUNCATED', sources: [6] }),
    // §9 step 8 compares with the first object's head (not stated in §9; the reference reader does the same).
    await crafted('heads of two protections (one head says 2 passes)', { head: (slot) => (slot === 6 ? { kdf: { ...TEST_KDF, passes: 2 } } : undefined) }, { error: 'CHAIN_BROKEN', sources: [6] }),
    same('an object given twice', [...o, o[4]!], { error: 'FRAGMENT_DUPLICATE', sources: [4, 8] }),
    same('the right characters in another order', o, { error: 'WRONG_SEQUENCE_KEY' }, 'adk21973'),
    same('a missing object', [...o.slice(0, 2), ...o.slice(3)], { error: 'FRAGMENT_MISSING', missing: ['k'] }),
    same('a byte changed in a frame prefix', [...o.slice(0, 1), flip(o[1]!, HEAD_LENGTH + 3), ...o.slice(2)], { error: 'FRAGMENT_TAMPERED', sources: [1], indexChars: ['d'] }),
    same('a byte changed in the last padding byte', [...o.slice(0, 7), flip(o[7]!, o[7]!.length - 1)], { error: 'FRAGMENT_TAMPERED', sources: [7], indexChars: ['7'] }),
    await crafted('a frame pointing back to the first fragment', { frame: (slot) => (slot === 2 ? { nextChar: 'a' } : undefined) }, { error: 'CHAIN_LOOP', indexChars: ['k'] }),
    await crafted('a frame jumping forward', { frame: (slot) => (slot === 1 ? { nextChar: '2' } : undefined) }, { error: 'CHAIN_BROKEN', indexChars: ['d'] }),
    await crafted('an envelope of 40 bytes', { envelopeLength: 40 }, { error: 'ENVELOPE_TRUNCATED' }),
    await crafted('an authentic envelope header with magic "EHRW"', { header: { magic: utf8Encoder.encode('EHRW') } }, { error: 'ENVELOPE_MALFORMED' }),
    await crafted('an authentic envelope header of version 3', { header: { version: 3 } }, { error: 'ENVELOPE_UNSUPPORTED' }),
    await crafted('authentic metadata with an unknown pixel format', { metadataJson: '{"kind":"image","name":"a","mime":"","byteLength":1000,"image":{"width":1000,"height":1,"pixelFormat":"CMYK8"}}' }, { error: 'METADATA_INVALID' }),
    await crafted('an envelope one byte shorter than its metadata says', { envelopeLength: base.envelope.length - 1 }, { error: 'ENVELOPE_TRUNCATED' }),
    await crafted('an envelope one byte longer than its metadata says', { envelopeLength: base.envelope.length + 1 }, { error: 'ENVELOPE_TRAILING_DATA' }),
    await crafted('objects one byte longer than canonical padding', { bodyLength: base.bodyLength + 1 }, { error: 'ENVELOPE_MALFORMED' }),
    await crafted('a damaged last body chunk', { envelope: (e) => flip(e, e.length - 1) }, { error: 'FRAGMENT_TAMPERED', sources: [7], indexChars: ['7'] }),
  ];
}
