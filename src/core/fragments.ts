import { concatBytes, constantTimeEqual, readU16, readU64, utf8Decoder, utf8Encoder, writeU16, writeU64 } from './bytes.js';
import { FragmentError, InputInvalidError } from './errors.js';
import { hmacSha256, type RecordKeys } from './keychain.js';
import type { PayloadPlacement } from './object-wrap.js';
import type { SequenceKey } from './sequence-key.js';

/**
 * The paper's fragments (FORMAT.md §8): own index character ‖ n ‖ position ‖ payload length ‖ payload ‖
 * next index character ‖ MAC. They live only inside sealed objects (§4.2); the cloud never sees them.
 */
const FRAME_FIELDS_LENGTH = 2 + 2 + 8;
export const FRAME_MAC_LENGTH = 32;
const FRAME_MAC_LABEL = utf8Encoder.encode('EHRV2 fragment\0');

export interface FrameFields {
  readonly indexChar: string;
  readonly nextChar: string;
  readonly n: number;
  readonly position: number;
  readonly payloadLength: number;
}

/** A fragment's frame and where its payload lies within the envelope. */
export interface PlannedFragment extends FrameFields, PayloadPlacement {
  /** Own character ‖ n ‖ position ‖ payload length: the frame bytes before the payload. */
  readonly prefix: Uint8Array;
  /** Next character ‖ MAC: the frame bytes after the payload. */
  readonly suffix: Uint8Array;
}

/**
 * Near-equal split: fragment i carries envelope bytes [floor(i·T/n), floor((i+1)·T/n)), so payload sizes
 * differ by at most one byte. Exact beyond 2^53 / n is not needed: T < 2^53 and n ≤ 64.
 */
export function payloadRange(totalLength: number, n: number, position: number): { start: number; end: number } {
  const at = (i: number) => Math.floor((i * totalLength) / n);
  return { start: at(position), end: at(position + 1) };
}

/** The bytes a frame's MAC is computed over (FORMAT.md §8). */
export function frameMacInput(f: FrameFields): Uint8Array {
  const own = utf8Encoder.encode(f.indexChar);
  const next = utf8Encoder.encode(f.nextChar);
  const fields = new Uint8Array(FRAME_FIELDS_LENGTH);
  writeU16(fields, 0, f.n);
  writeU16(fields, 2, f.position);
  writeU64(fields, 4, f.payloadLength);
  return concatBytes([FRAME_MAC_LABEL, Uint8Array.of(own.length), own, fields, Uint8Array.of(next.length), next]);
}

export async function frameMac(keys: Pick<RecordKeys, 'fragments'>, fields: FrameFields): Promise<Uint8Array> {
  return hmacSha256(keys.fragments, frameMacInput(fields));
}

/** The frame of one fragment. Exported so tests can craft authentic frames that are chained wrongly. */
export async function buildFrame(keys: Pick<RecordKeys, 'fragments'>, fields: FrameFields): Promise<{ prefix: Uint8Array; suffix: Uint8Array }> {
  return { prefix: framePrefix(fields), suffix: frameSuffix(fields, await frameMac(keys, fields)) };
}

/** Own character ‖ n ‖ position ‖ payload length: the frame before the payload. */
export function framePrefix(fields: FrameFields): Uint8Array {
  const own = utf8Encoder.encode(fields.indexChar);
  const prefix = new Uint8Array(own.length + FRAME_FIELDS_LENGTH);
  prefix.set(own, 0);
  writeU16(prefix, own.length, fields.n);
  writeU16(prefix, own.length + 2, fields.position);
  writeU64(prefix, own.length + 4, fields.payloadLength);
  return prefix;
}

/** Next character ‖ MAC: the frame after the payload. */
export function frameSuffix(fields: FrameFields, mac: Uint8Array): Uint8Array {
  return concatBytes([utf8Encoder.encode(fields.nextChar), mac]);
}

/** The frame fields of fragment `position` of an envelope of `totalLength` bytes split by `key` (§8). */
export function frameFieldsAt(key: SequenceKey, totalLength: number, position: number): FrameFields & { payloadStart: number; payloadEnd: number } {
  const { start, end } = payloadRange(totalLength, key.n, position);
  return { indexChar: key.chars[position]!, nextChar: key.chars[(position + 1) % key.n]!, n: key.n, position, payloadLength: end - start, payloadStart: start, payloadEnd: end };
}

/**
 * Frames for splitting an envelope of `totalLength` bytes by `key`: fragment i starts with key[i] and ends
 * with key[i+1]; the last ends with key[0], closing the ring (the paper leaves the last one open; a ring
 * makes every fragment alike and lets the reader check the whole chain).
 */
export async function planFragments(keys: Pick<RecordKeys, 'fragments'>, key: SequenceKey, totalLength: number): Promise<PlannedFragment[]> {
  if (totalLength < key.n) throw new InputInvalidError('The envelope is shorter than the number of fragments.');
  return Promise.all(
    key.chars.map(async (_, position) => {
      const { payloadStart, payloadEnd, ...fields } = frameFieldsAt(key, totalLength, position);
      const { prefix, suffix } = await buildFrame(keys, fields);
      return { ...fields, prefix, suffix, payloadStart, payloadEnd, prefixLength: prefix.length };
    }),
  );
}

/** Length in bytes of the UTF-8 sequence a lead byte starts, or 0 if it cannot start one. */
export function utf8SequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Decodes bytes that must be exactly one Unicode scalar value in shortest form. */
export function decodeOneChar(bytes: Uint8Array): string | undefined {
  try {
    const text = utf8Decoder.decode(bytes);
    return Array.from(text).length === 1 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** The front of a frame, read from the first (up to) 16 unsealed bytes of a body. */
export interface FrameHead {
  readonly indexChar: string;
  readonly n: number;
  readonly position: number;
  readonly payloadLength: number;
  readonly prefixLength: number;
}

/** Parses the frame's front; undefined when the bytes cannot be one (§9 step 11: tampered). */
export function readFrameHead(front: Uint8Array, bodyLength: number): FrameHead | undefined {
  if (front.length === 0) return undefined;
  const ownLength = utf8SequenceLength(front[0]!);
  if (ownLength === 0 || front.length < ownLength + FRAME_FIELDS_LENGTH) return undefined;
  const indexChar = decodeOneChar(front.subarray(0, ownLength));
  if (indexChar === undefined) return undefined;
  const n = readU16(front, ownLength);
  const position = readU16(front, ownLength + 2);
  const payloadLength = readU64(front, ownLength + 4);
  const prefixLength = ownLength + FRAME_FIELDS_LENGTH;
  // The smallest suffix is one byte of next character and the MAC.
  if (!Number.isSafeInteger(payloadLength) || prefixLength + payloadLength + 1 + FRAME_MAC_LENGTH > bodyLength) return undefined;
  return { indexChar, n, position, payloadLength, prefixLength };
}

/**
 * Checks the frame's back (unsealed bytes from the end of the payload to the end of the body): next
 * character, MAC, zero padding. Returns the frame when all of it is authentic, else undefined.
 */
export async function readFrameTail(keys: Pick<RecordKeys, 'fragments'>, head: FrameHead, tail: Uint8Array): Promise<FrameFields | undefined> {
  if (tail.length === 0) return undefined;
  const nextLength = utf8SequenceLength(tail[0]!);
  if (nextLength === 0 || tail.length < nextLength + FRAME_MAC_LENGTH) return undefined;
  const nextChar = decodeOneChar(tail.subarray(0, nextLength));
  if (nextChar === undefined) return undefined;
  const fields: FrameFields = { indexChar: head.indexChar, nextChar, n: head.n, position: head.position, payloadLength: head.payloadLength };
  const mac = tail.subarray(nextLength, nextLength + FRAME_MAC_LENGTH);
  if (!constantTimeEqual(await frameMac(keys, fields), mac)) return undefined;
  for (let i = nextLength + FRAME_MAC_LENGTH; i < tail.length; i++) if (tail[i] !== 0) return undefined;
  return fields;
}

const quote = (chars: readonly string[]) => chars.map((c) => `'${c}'`).join(', ');

/**
 * The paper's merge on authentic frames (FORMAT.md §9 step 12): each frame sits at its slot, starts with
 * its own character and points to the next one; the ring closes at s₀.
 */
export function checkChain(key: SequenceKey, frames: readonly FrameFields[]): void {
  const n = key.n;
  // Position by position (§9 step 12: "the first failing position is reported"), every check of a
  // position before the next one.
  for (const [slot, f] of frames.entries()) {
    if (f.n !== n || f.position !== slot || f.indexChar !== key.chars[slot]) {
      throw new FragmentError('CHAIN_BROKEN', `Fragment '${key.chars[slot]}' is not in its place in the chain.`, 'These fragments were not produced by EHR Vault as one record; ask the sender to protect it again.', { indexChars: [key.chars[slot]], position: slot });
    }
    if (f.nextChar === key.chars[(slot + 1) % n]) continue;
    const target = key.chars.indexOf(f.nextChar);
    const loops = target >= 0 && target <= slot;
    throw new FragmentError(
      loops ? 'CHAIN_LOOP' : 'CHAIN_BROKEN',
      loops ? `The chain loops back from fragment '${f.indexChar}' to '${f.nextChar}'.` : `The chain jumps from fragment '${f.indexChar}' to '${f.nextChar}'.`,
      'These fragments were not produced by EHR Vault as one record; ask the sender to protect it again.',
      { from: f.indexChar, to: f.nextChar, indexChars: [f.indexChar] },
    );
  }
}

export function tamperedFragments(key: SequenceKey, slots: readonly number[], details: Record<string, unknown> = {}): FragmentError {
  const chars = slots.map((s) => key.chars[s]!);
  return new FragmentError('FRAGMENT_TAMPERED', `Fragment ${quote(chars)} was altered or damaged.`, 'Download the record again; if this persists, the stored copy is damaged and the sender must share it again.', {
    indexChars: chars,
    slots,
    ...details,
    ...(Array.isArray(details.sources) ? { sources: [...(details.sources as number[])].sort((a, b) => a - b) } : {}),
  });
}
