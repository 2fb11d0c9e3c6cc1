import type { ByteSource } from './byte-queue.js';
import { EnvelopeError } from './errors.js';
import type { PlannedFragment } from './fragments.js';

/** A piece of one fragment's bytes; pieces of a fragment arrive in order, `last` on its final piece. */
export interface FragmentPiece {
  readonly position: number;
  readonly bytes: Uint8Array;
  readonly last: boolean;
}

/**
 * Routes an envelope arriving in pieces into fragments, without buffering: each fragment is its prefix,
 * the envelope bytes of its range (as views of the incoming pieces), then its suffix.
 */
export async function* splitStream(envelope: ByteSource, frames: readonly PlannedFragment[]): AsyncGenerator<FragmentPiece, void, undefined> {
  let offset = 0;
  let position = 0;
  let started = false;
  const total = frames[frames.length - 1]?.payloadEnd ?? 0;
  for await (const piece of envelope) {
    let at = 0;
    while (at < piece.length) {
      const frame = frames[position];
      if (!frame) throw new EnvelopeError('SOURCE_LENGTH_MISMATCH', 'The envelope is longer than planned.', 'This is a programming error; please report it.', { total });
      if (!started) {
        yield { position, bytes: frame.prefix, last: false };
        started = true;
      }
      const take = Math.min(piece.length - at, frame.payloadEnd - offset);
      yield { position, bytes: piece.subarray(at, at + take), last: false };
      at += take;
      offset += take;
      if (offset === frame.payloadEnd) {
        yield { position, bytes: frame.suffix, last: true };
        position++;
        started = false;
      }
    }
  }
  if (position !== frames.length) throw new EnvelopeError('SOURCE_LENGTH_MISMATCH', 'The envelope is shorter than planned.', 'This is a programming error; please report it.', { total, got: offset });
}
