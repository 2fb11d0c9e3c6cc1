import { concatBytes, constantTimeEqual, readU16, readU64, utf8Decoder, utf8Encoder, writeU16, writeU64 } from './bytes.js';
import { FragmentError, InputInvalidError, WrongRecordKeyError, WrongSequenceKeyError } from './errors.js';
import { hmacSha256, type RecordKeys } from './keychain.js';
import { SEQUENCE_KEY_MAX_LENGTH, SEQUENCE_KEY_MIN_LENGTH, type SequenceKey } from './sequence-key.js';

export const FRAGMENT_VERSION = 1;
/** version, flags, n, position, payload length, record tag, header MAC (FORMAT.md §7). */
const FIXED_HEADER_LENGTH = 1 + 1 + 2 + 2 + 8 + 16 + 16;
/** Bytes a reader needs from the front of a fragment to parse it: the longest index character and the fixed header. */
export const FRAGMENT_HEAD_MAX = 4 + FIXED_HEADER_LENGTH;
/** Bytes a reader needs from the end: the longest index character. */
export const FRAGMENT_TAIL_MAX = 4;
const RECORD_TAG_LABEL = utf8Encoder.encode('EHRV1 record-tag\0');
const HEADER_MAC_LABEL = utf8Encoder.encode('EHRV1 fragment\0');

/** Everything in a fragment except its payload. */
export interface FragmentFrame {
  readonly indexChar: string;
  readonly nextChar: string;
  readonly version: number;
  readonly flags: number;
  readonly n: number;
  readonly position: number;
  readonly payloadLength: number;
  readonly recordTag: Uint8Array;
  readonly headerMac: Uint8Array;
  /** Index character ‖ fixed header: the bytes before the payload. */
  readonly prefix: Uint8Array;
  /** The next fragment's index character: the bytes after the payload. */
  readonly suffix: Uint8Array;
}

/** A fragment's frame and where its payload lies within the envelope. */
export interface PlannedFragment extends FragmentFrame {
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

/**
 * Near-equal split: fragment i carries envelope bytes [floor(i·T/n), floor((i+1)·T/n)), so payload
 * sizes differ by at most one byte.
 */
export function payloadRange(totalLength: number, n: number, position: number): { start: number; end: number } {
  const at = (i: number) => Math.floor((i * totalLength) / n);
  return { start: at(position), end: at(position + 1) };
}

async function recordTag(keys: RecordKeys, indexChar: string): Promise<Uint8Array> {
  return (await hmacSha256(keys.fragments, concatBytes([RECORD_TAG_LABEL, utf8Encoder.encode(indexChar)]))).subarray(0, 16);
}

function headerMacInput(frame: Omit<FragmentFrame, 'headerMac' | 'prefix' | 'suffix'>): Uint8Array {
  const own = utf8Encoder.encode(frame.indexChar);
  const next = utf8Encoder.encode(frame.nextChar);
  const fields = new Uint8Array(1 + 1 + 2 + 2 + 8);
  fields[0] = frame.version;
  fields[1] = frame.flags;
  writeU16(fields, 2, frame.n);
  writeU16(fields, 4, frame.position);
  writeU64(fields, 6, frame.payloadLength);
  return concatBytes([HEADER_MAC_LABEL, Uint8Array.of(own.length), own, fields, frame.recordTag, Uint8Array.of(next.length), next]);
}

export interface FrameFields {
  readonly indexChar: string;
  readonly nextChar: string;
  readonly n: number;
  readonly position: number;
  readonly payloadLength: number;
}

/**
 * Builds the authenticated frame of one fragment. Exported so tests can craft fragments that are
 * authentic but chained wrongly; `sealFragmentFrames` is what protection uses.
 */
export async function sealFrame(keys: RecordKeys, fields: FrameFields): Promise<FragmentFrame> {
  const base = { ...fields, version: FRAGMENT_VERSION, flags: 0, recordTag: await recordTag(keys, fields.indexChar) };
  const headerMac = (await hmacSha256(keys.fragments, headerMacInput(base))).subarray(0, 16);
  const own = utf8Encoder.encode(fields.indexChar);
  const prefix = new Uint8Array(own.length + FIXED_HEADER_LENGTH);
  prefix.set(own, 0);
  let o = own.length;
  prefix[o++] = base.version;
  prefix[o++] = base.flags;
  writeU16(prefix, o, fields.n);
  writeU16(prefix, o + 2, fields.position);
  writeU64(prefix, o + 4, fields.payloadLength);
  prefix.set(base.recordTag, o + 12);
  prefix.set(headerMac, o + 28);
  return { ...base, headerMac, prefix, suffix: utf8Encoder.encode(fields.nextChar) };
}

/**
 * Frames for splitting an envelope of `totalLength` bytes by `key`: fragment i starts with key[i] and ends
 * with key[i+1]; the last ends with key[0], closing the ring (the paper leaves the last one open; a ring
 * makes every fragment alike and lets the reader check the whole chain).
 */
export async function sealFragmentFrames(keys: RecordKeys, key: SequenceKey, totalLength: number): Promise<PlannedFragment[]> {
  if (totalLength < key.n) throw new InputInvalidError('The envelope is shorter than the number of fragments.');
  return Promise.all(
    key.chars.map(async (indexChar, position) => {
      const { start, end } = payloadRange(totalLength, key.n, position);
      const frame = await sealFrame(keys, { indexChar, nextChar: key.chars[(position + 1) % key.n]!, n: key.n, position, payloadLength: end - start });
      return { ...frame, payloadStart: start, payloadEnd: end };
    }),
  );
}

/** Length in bytes of the UTF-8 sequence a lead byte starts, or 0 if it cannot start one. */
function utf8SequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Decodes bytes that must be exactly one Unicode scalar value in shortest form. */
function decodeOneChar(bytes: Uint8Array): string | undefined {
  try {
    const text = utf8Decoder.decode(bytes);
    return Array.from(text).length === 1 ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A parsed fragment: its frame plus where it was found (for messages), not yet authenticated. */
export interface ParsedFragment extends FragmentFrame {
  /** Position of this fragment in the caller's list. */
  readonly source: number;
  /** Offset of the payload inside the fragment's bytes. */
  readonly payloadOffset: number;
}

function malformed(source: number, message: string, details: Record<string, unknown> = {}): FragmentError {
  return new FragmentError('FRAGMENT_MALFORMED', `Fragment #${source + 1} is not an EHR Vault fragment: ${message}`, 'Remove files that are not fragments of this record, or download the fragment again.', { source, ...details });
}

/**
 * Structural parse from the first FRAGMENT_HEAD_MAX and last FRAGMENT_TAIL_MAX bytes of a fragment
 * (or fewer, if it is shorter), so a large fragment never has to be read whole to be checked.
 */
export function parseFragmentFrame(head: Uint8Array, tail: Uint8Array, totalLength: number, source = 0): ParsedFragment {
  if (head.length === 0) throw malformed(source, 'it is empty');
  const ownLength = utf8SequenceLength(head[0]!);
  if (ownLength === 0 || head.length < ownLength) throw malformed(source, 'it does not start with an index character');
  const indexChar = decodeOneChar(head.subarray(0, ownLength));
  if (indexChar === undefined) throw malformed(source, 'it does not start with an index character');
  const payloadOffset = ownLength + FIXED_HEADER_LENGTH;
  if (head.length < payloadOffset || totalLength < payloadOffset) {
    throw new FragmentError('FRAGMENT_TRUNCATED', `Fragment '${indexChar}' is cut short.`, 'Download this fragment again.', { source, indexChar });
  }
  const version = head[ownLength]!;
  const flags = head[ownLength + 1]!;
  if (version !== FRAGMENT_VERSION || flags !== 0) {
    throw new FragmentError('FRAGMENT_UNSUPPORTED', `Fragment '${indexChar}' uses fragment format ${version} (flags ${flags}), which this version cannot read.`, 'Update EHR Vault, or download this fragment again if it may be damaged.', { source, indexChar, version, flags });
  }
  const n = readU16(head, ownLength + 2);
  const position = readU16(head, ownLength + 4);
  const payloadLength = readU64(head, ownLength + 6);
  if (n < SEQUENCE_KEY_MIN_LENGTH || n > SEQUENCE_KEY_MAX_LENGTH || position >= n || !Number.isSafeInteger(payloadLength)) {
    throw malformed(source, 'its header is out of range', { indexChar });
  }
  const recordTagBytes = head.slice(ownLength + 14, ownLength + 30);
  const headerMac = head.slice(ownLength + 30, ownLength + 46);
  const truncated = () => new FragmentError('FRAGMENT_TRUNCATED', `Fragment '${indexChar}' is cut short.`, 'Download this fragment again.', { source, indexChar });
  // What follows the payload must be exactly one index character (1–4 bytes).
  const available = totalLength - payloadOffset - payloadLength;
  if (available < 1) throw truncated();
  if (available > FRAGMENT_TAIL_MAX || tail.length < available) throw malformed(source, 'it is longer than its header says', { indexChar });
  const suffix = tail.slice(tail.length - available);
  const suffixLength = utf8SequenceLength(suffix[0]!);
  if (suffixLength > available) throw truncated();
  const nextChar = suffixLength === available ? decodeOneChar(suffix) : undefined;
  if (nextChar === undefined) throw malformed(source, 'it does not end with an index character', { indexChar });
  return {
    indexChar,
    nextChar,
    version,
    flags,
    n,
    position,
    payloadLength,
    recordTag: recordTagBytes,
    headerMac,
    prefix: head.slice(0, payloadOffset),
    suffix,
    source,
    payloadOffset,
  };
}

export function parseFragment(bytes: Uint8Array, source = 0): ParsedFragment {
  return parseFragmentFrame(bytes.subarray(0, FRAGMENT_HEAD_MAX), bytes.subarray(Math.max(0, bytes.length - FRAGMENT_TAIL_MAX)), bytes.length, source);
}

const quote = (chars: readonly string[]) => chars.map((c) => `'${c}'`).join(', ');

/**
 * Authenticates every fragment, checks the chain and the sequence key, and returns the fragments in
 * merge order (key order). Each failure is its own typed error, checked in this order: record key,
 * foreign fragments, tampered headers, duplicates, chain, sequence key, missing fragments.
 */
export async function planMerge(keys: RecordKeys, key: SequenceKey, fragments: readonly ParsedFragment[]): Promise<ParsedFragment[]> {
  if (fragments.length === 0) {
    throw new FragmentError('FRAGMENT_MISSING', 'No fragments were given.', 'Add all fragments of the record.', { missing: key.chars });
  }
  const checks = await Promise.all(
    fragments.map(async (f) => {
      if (!constantTimeEqual(await recordTag(keys, f.indexChar), f.recordTag)) return 'foreign' as const;
      const mac = (await hmacSha256(keys.fragments, headerMacInput(f))).subarray(0, 16);
      return constantTimeEqual(mac, f.headerMac) ? ('ok' as const) : ('tampered' as const);
    }),
  );
  const foreign = fragments.filter((_, i) => checks[i] === 'foreign');
  if (foreign.length === fragments.length) throw new WrongRecordKeyError('None of these fragments belong to this record key.', { sources: foreign.map((f) => f.source) });
  if (foreign.length > 0) {
    throw new FragmentError('FRAGMENT_FOREIGN', `Fragment ${quote(foreign.map((f) => f.indexChar))} belongs to another record.`, 'Remove the fragments of other records and add the right ones.', {
      indexChars: foreign.map((f) => f.indexChar),
      sources: foreign.map((f) => f.source),
    });
  }
  const tampered = fragments.filter((_, i) => checks[i] === 'tampered');
  if (tampered.length > 0) {
    throw new FragmentError('FRAGMENT_TAMPERED', `Fragment ${quote(tampered.map((f) => f.indexChar))} was altered or damaged.`, 'Download the damaged fragment again.', {
      indexChars: tampered.map((f) => f.indexChar),
      sources: tampered.map((f) => f.source),
    });
  }

  const byChar = new Map<string, ParsedFragment>();
  for (const f of fragments) {
    if (byChar.has(f.indexChar)) {
      throw new FragmentError('FRAGMENT_DUPLICATE', `Fragment '${f.indexChar}' was given more than once.`, 'Remove the extra copy.', { indexChar: f.indexChar, sources: [byChar.get(f.indexChar)!.source, f.source] });
    }
    byChar.set(f.indexChar, f);
  }

  checkChain(fragments, byChar);
  checkAgainstKey(key, fragments);

  const missing = key.chars.filter((c) => !byChar.has(c));
  if (missing.length > 0) {
    throw new FragmentError('FRAGMENT_MISSING', `Fragment ${quote(missing)} ${missing.length === 1 ? 'is' : 'are'} missing (${fragments.length} of ${key.n} present).`, 'Add the missing fragments; all of them are needed.', {
      missing,
      positions: missing.map((c) => key.chars.indexOf(c)),
    });
  }
  return key.chars.map((c) => byChar.get(c)!);
}

/** Checks the chain the fragments themselves describe, independently of any sequence key. */
function checkChain(fragments: readonly ParsedFragment[], byChar: ReadonlyMap<string, ParsedFragment>): void {
  const n = fragments[0]!.n;
  const positions = new Map<number, ParsedFragment>();
  for (const f of fragments) {
    if (f.n !== n) throw new FragmentError('CHAIN_BROKEN', 'These fragments come from different splits of the record.', 'Use the fragments of one upload only.', { indexChars: [fragments[0]!.indexChar, f.indexChar] });
    const other = positions.get(f.position);
    if (other) throw new FragmentError('CHAIN_BROKEN', `Fragments '${other.indexChar}' and '${f.indexChar}' claim the same place in the chain.`, 'Use the fragments of one upload only.', { indexChars: [other.indexChar, f.indexChar] });
    positions.set(f.position, f);
  }
  for (const f of fragments) {
    const expected = (f.position + 1) % n;
    const target = f.nextChar === f.indexChar ? f : byChar.get(f.nextChar);
    if (!target || target.position === expected) continue;
    const wraps = f.position === n - 1 && target.position === 0;
    if (target === f || (target.position <= f.position && !wraps)) {
      throw new FragmentError('CHAIN_LOOP', `The chain loops back from fragment '${f.indexChar}' to '${target.indexChar}'.`, 'These fragments were not produced by EHR Vault as one record; they cannot be merged.', { from: f.indexChar, to: target.indexChar });
    }
    throw new FragmentError('CHAIN_BROKEN', `The chain jumps from fragment '${f.indexChar}' to '${target.indexChar}'.`, 'These fragments were not produced by EHR Vault as one record; they cannot be merged.', { from: f.indexChar, to: target.indexChar });
  }
}

function checkAgainstKey(key: SequenceKey, fragments: readonly ParsedFragment[]): void {
  const n = fragments[0]!.n;
  if (n !== key.n) throw new WrongSequenceKeyError(`the record has ${n} fragments but the key has ${key.n} characters.`, { expectedLength: n, keyLength: key.n });
  for (const f of fragments) {
    const at = key.chars.indexOf(f.indexChar);
    if (at < 0) throw new WrongSequenceKeyError(`fragment '${f.indexChar}' is not in the key.`, { indexChar: f.indexChar });
    if (at !== f.position || key.chars[(at + 1) % key.n] !== f.nextChar) {
      throw new WrongSequenceKeyError(`the characters are in a different order.`, { indexChar: f.indexChar });
    }
  }
}

export interface Fragment {
  readonly indexChar: string;
  readonly bytes: Uint8Array;
}

/** Splits a whole envelope in memory. Streaming callers use `sealFragmentFrames` and route bytes themselves. */
export async function splitEnvelope(keys: RecordKeys, key: SequenceKey, envelope: Uint8Array): Promise<Fragment[]> {
  const frames = await sealFragmentFrames(keys, key, envelope.length);
  return frames.map((f) => ({ indexChar: f.indexChar, bytes: concatBytes([f.prefix, envelope.subarray(f.payloadStart, f.payloadEnd), f.suffix]) }));
}

/** Merges whole fragments (any order) back into the envelope they were split from. */
export async function mergeFragments(keys: RecordKeys, key: SequenceKey, fragments: readonly Uint8Array[]): Promise<{ envelope: Uint8Array; order: ParsedFragment[] }> {
  const parsed = fragments.map((bytes, i) => parseFragment(bytes, i));
  const order = await planMerge(keys, key, parsed);
  const envelope = concatBytes(order.map((f) => fragments[f.source]!.subarray(f.payloadOffset, f.payloadOffset + f.payloadLength)));
  return { envelope, order };
}
