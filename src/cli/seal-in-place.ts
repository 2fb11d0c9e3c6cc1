import { EnvelopeSealer } from '../core/envelope-seal.js';
import type { BatchKdf } from '../core/batch-kdf.js';
import { generateRecordKey, systemRandomBytes } from '../core/keychain.js';
import type { RecordMetadata } from '../core/metadata.js';
import { HEAD_LENGTH } from '../core/object-head.js';
import { generateRecordId } from '../core/object-names.js';
import { wrapAt } from '../core/object-wrap.js';
import { recordIdBytes } from '../core/open-objects.js';
import { deriveKeysForProtect } from '../core/record.js';
import { planObjects } from '../core/seal-objects.js';
import { parseSequenceKey } from '../core/sequence-key.js';

/** Chunks sealed at once: WebCrypto runs them on libuv's thread pool. */
const WINDOW = 8;

/**
 * The core's writer (FORMAT.md §4–§8) with the objects allocated up front: each AES-GCM chunk is sealed with
 * AES-CTR straight into the objects whose payloads hold it (§7.1: the keystream is addressed by offset), so
 * the envelope is never assembled and the objects never concatenated. Same bytes as `protectRecord` for the
 * same randomness; built only from core pieces (no format code here).
 */
export async function protectInPlace(body: Uint8Array, metadata: RecordMetadata, sequenceKey: string, batch: BatchKdf): Promise<{ recordKey: Uint8Array; recordId: string; objects: Uint8Array[] }> {
  const key = parseSequenceKey(sequenceKey);
  const recordKey = generateRecordKey(systemRandomBytes);
  const recordId = generateRecordId(systemRandomBytes);
  // X comes from the batch (the run's one Argon2id, FORMAT.md §3): only HKDF runs per record.
  const keys = await deriveKeysForProtect(recordKey, recordId, key, batch);
  const sealer = await EnvelopeSealer.create(keys, metadata);
  const plan = await planObjects({ keys, recordId: recordIdBytes(recordId), sequenceKey: key, envelopeLength: sealer.totalLength, kdf: batch.kdf });
  const objects = plan.objects.map((o) => {
    const object = new Uint8Array(HEAD_LENGTH + plan.bodyLength);
    object.set(o.head, 0);
    object.set(o.sealedPrefix, HEAD_LENGTH);
    let at = HEAD_LENGTH + o.prefixLength + (o.payloadEnd - o.payloadStart);
    for (const piece of o.sealedTail) {
      object.set(piece, at);
      at += piece.length;
    }
    return object;
  });
  const place = async (envelopeOffset: number, bytes: Uint8Array): Promise<void> => {
    const end = envelopeOffset + bytes.length;
    await Promise.all(
      plan.objects.map(async (o, slot) => {
        const from = Math.max(o.payloadStart, envelopeOffset);
        const to = Math.min(o.payloadEnd, end);
        if (from >= to) return;
        const inObject = o.prefixLength + (from - o.payloadStart);
        objects[slot]!.set(await wrapAt(keys.wrap, slot, inObject, bytes.subarray(from - envelopeOffset, to - envelopeOffset)), HEAD_LENGTH + inObject);
      }),
    );
  };
  await place(0, sealer.head);
  const { chunkSize } = sealer.header;
  const stride = chunkSize + 16;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < sealer.chunkCount; i++) {
    const plain = body.subarray(i * chunkSize, i * chunkSize + sealer.chunkPlaintextLength(i));
    const offset = sealer.head.length + i * stride;
    // sealNext claims its counter before awaiting: several chunks are in flight, each with its own nonce.
    inFlight.push(sealer.sealNext(plain).then((sealed) => place(offset, sealed)));
    if (inFlight.length >= WINDOW) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return { recordKey, recordId, objects };
}
