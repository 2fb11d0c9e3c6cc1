import { asBufferSource, writeU16, writeU64 } from './bytes.js';

/**
 * Longest single AES-CTR call. WebCrypto slows down on large calls (Chromium, bench "AES by call size":
 * 557–657 MiB/s up to 512 KiB, 265–474 MiB/s at 4 MiB), and a 16 MiB segment unwrapped in one call was a
 * third of opening's time. A sealed chunk (512 KiB + its tag) still goes in one call: every split is a copy.
 */
export const WRAP_CALL_BYTES = 512 * 1024 + 64;

/**
 * The seal of an object body (FORMAT.md §4.2): AES-128-CTR whose keystream for object `slot` starts at the
 * counter block u16 slot ‖ 00×6 ‖ u64 0. Addressed by offset, so any byte range is sealed or unsealed on
 * its own (segments on several threads, a payload without its frame); CTR is its own inverse.
 */
export async function wrapAt(wrapKey: CryptoKey, slot: number, offset: number, bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length === 0) return new Uint8Array(0);
  if (bytes.length <= WRAP_CALL_BYTES) return wrapOnce(wrapKey, slot, offset, bytes);
  const out = new Uint8Array(bytes.length);
  const calls: Promise<void>[] = [];
  // Pieces end on 16-byte keystream blocks (offset + at is a multiple of 16), so each is one CTR call.
  for (let at = 0; at < bytes.length; ) {
    const end = Math.min(bytes.length, at === 0 ? WRAP_CALL_BYTES - (offset % 16) : at + WRAP_CALL_BYTES);
    const from = at;
    calls.push(wrapOnce(wrapKey, slot, offset + from, bytes.subarray(from, end)).then((w) => out.set(w, from)));
    at = end;
  }
  await Promise.all(calls);
  return out;
}

async function wrapOnce(wrapKey: CryptoKey, slot: number, offset: number, bytes: Uint8Array): Promise<Uint8Array> {
  const lead = offset % 16;
  const counter = new Uint8Array(16);
  writeU16(counter, 0, slot);
  writeU64(counter, 8, (offset - lead) / 16);
  let input: Uint8Array = bytes;
  if (lead > 0) {
    input = new Uint8Array(lead + bytes.length);
    input.set(bytes, lead);
  }
  const out = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-CTR', counter, length: 128 }, wrapKey, asBufferSource(input)));
  return lead > 0 ? out.subarray(lead) : out;
}

/** Where fragment `slot`'s payload lies in the envelope, and where it starts inside the object body. */
export interface PayloadPlacement {
  readonly payloadStart: number;
  readonly payloadEnd: number;
  /** Bytes of the frame before the payload (own character, n, position, payload length). */
  readonly prefixLength: number;
}

/**
 * Seals (or unseals) envelope bytes [envelopeOffset, envelopeOffset + bytes.length) with the keystream of the
 * objects whose payloads hold them. `placements` is indexed by slot and covers the envelope in order.
 */
export async function wrapEnvelopeRange(wrapKey: CryptoKey, placements: readonly PayloadPlacement[], envelopeOffset: number, bytes: Uint8Array): Promise<Uint8Array> {
  const pieces = await wrapEnvelopePieces(wrapKey, placements, envelopeOffset, bytes);
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(bytes.length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * `wrapEnvelopeRange` as consecutive pieces, for callers that take pieces (a segment's output): no byte is
 * copied to join them. A piece whose body offset is not on a 16-byte keystream block is split there, so
 * that every longer call starts on a block and runs on the caller's bytes as they are (a call that starts
 * mid-block needs its input copied behind padding); calls are at most WRAP_CALL_BYTES.
 */
export async function wrapEnvelopePieces(wrapKey: CryptoKey, placements: readonly PayloadPlacement[], envelopeOffset: number, bytes: Uint8Array): Promise<Uint8Array[]> {
  const end = envelopeOffset + bytes.length;
  const calls: Promise<Uint8Array>[] = [];
  for (const [slot, p] of placements.entries()) {
    const from = Math.max(p.payloadStart, envelopeOffset);
    const to = Math.min(p.payloadEnd, end);
    for (let at = from; at < to; ) {
      const bodyOffset = p.prefixLength + (at - p.payloadStart);
      const lead = bodyOffset % 16;
      const stop = Math.min(to, lead > 0 ? at + 16 - lead : at + WRAP_CALL_BYTES);
      calls.push(wrapOnce(wrapKey, slot, bodyOffset, bytes.subarray(at - envelopeOffset, stop - envelopeOffset)));
      at = stop;
    }
  }
  return Promise.all(calls);
}
