/// <reference lib="webworker" />
/**
 * Baselines and peers, each in a Worker like our engine, over the same Blob the engine reads:
 * - raw AES-128-GCM over bytes already in memory, at a given call size (the crypto ceiling);
 * - raw read of the Blob in 16 MiB slices (the I/O ceiling for a file the user picked);
 * - hat.sh's engine: libsodium crypto_secretstream_xchacha20poly1305, 64 KiB chunks, reading the Blob;
 * - Firefox Send's scheme: AES-128-GCM in 64 KiB records (RFC 8188), reading the Blob.
 * Peers discard their output (they are not charged for building Blobs, which we are).
 */
import * as Comlink from 'comlink';
import { createSHA256 } from 'hash-wasm';
import { DEFAULT_KDF, stretchSequenceKey } from '../src/core/kdf.js';
import { parseSequenceKey } from '../src/core/sequence-key.js';

const SLICE = 16 * 1024 * 1024;

async function aesKey(): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(16)), { name: 'AES-GCM' }, false, ['encrypt']);
}

const api = {
  /** Argon2id of a sequence key with the format's writer parameters (FORMAT.md §3), in a Worker as the engine runs it. Returns ms per run. */
  async kdf(runs: number): Promise<number[]> {
    const key = parseSequenceKey('adk21937');
    const salt = crypto.getRandomValues(new Uint8Array(16));
    await stretchSequenceKey(key, salt, DEFAULT_KDF);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await stretchSequenceKey(key, salt, DEFAULT_KDF);
      times.push(performance.now() - t0);
    }
    return times;
  },

  /** Encrypts `bytes` of in-memory data (from `start` to `end`) in calls of `callSize`. Returns ms. */
  async aesInMemory(total: number, callSize: number): Promise<number> {
    const key = await aesKey();
    const buffer = new Uint8Array(Math.min(total, SLICE));
    for (let i = 0; i < buffer.length; i += 65536) crypto.getRandomValues(buffer.subarray(i, Math.min(buffer.length, i + 65536)));
    const iv = new Uint8Array(12);
    const t0 = performance.now();
    let done = 0;
    while (done < total) {
      for (let at = 0; at < buffer.length && done < total; at += callSize) {
        const n = Math.min(callSize, buffer.length - at, total - done);
        new DataView(iv.buffer).setUint32(8, done / callSize);
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, buffer.subarray(at, at + n));
        done += n;
      }
    }
    return performance.now() - t0;
  },

  async readBlob(blob: Blob, start = 0, end = blob.size): Promise<number> {
    const t0 = performance.now();
    for (let at = start; at < end; at += SLICE) await blob.slice(at, Math.min(end, at + SLICE)).arrayBuffer();
    return performance.now() - t0;
  },

  async sodiumSecretstream(blob: Blob): Promise<number> {
    // Imported here, not at the top: libsodium compiles itself on import, which would slow the other
    // measurements sharing this worker.
    const sodium = (await import('libsodium-wrappers')).default;
    await sodium.ready;
    const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    const t0 = performance.now();
    const { state } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    const CHUNK = 64 * 1024;
    for (let at = 0; at < blob.size; at += SLICE) {
      const slice = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + SLICE)).arrayBuffer());
      for (let o = 0; o < slice.length; o += CHUNK) {
        const last = at + o + CHUNK >= blob.size;
        sodium.crypto_secretstream_xchacha20poly1305_push(state, slice.subarray(o, o + CHUNK), null, last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
      }
    }
    return performance.now() - t0;
  },

  async sendRecords(blob: Blob): Promise<number> {
    const key = await aesKey();
    const RECORD = 64 * 1024;
    const iv = new Uint8Array(12);
    const t0 = performance.now();
    let seq = 0;
    for (let at = 0; at < blob.size; at += SLICE) {
      const slice = new Uint8Array(await blob.slice(at, Math.min(blob.size, at + SLICE)).arrayBuffer());
      for (let o = 0; o < slice.length; o += RECORD) {
        new DataView(iv.buffer).setUint32(8, seq++);
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, slice.subarray(o, o + RECORD));
      }
    }
    return performance.now() - t0;
  },

  /**
   * SHA-256 of `total` in-memory bytes: incremental hash-wasm in 512 KiB updates (what protect now runs on
   * the fragments as they are produced) and one-shot WebCrypto digests of 16 MiB (what reading each
   * fragment again used). Returns ms for each.
   */
  async sha256(total: number): Promise<{ hashWasmMs: number; webCryptoMs: number }> {
    const buffer = new Uint8Array(Math.min(total, SLICE));
    for (let i = 0; i < buffer.length; i += 65536) crypto.getRandomValues(buffer.subarray(i, Math.min(buffer.length, i + 65536)));
    const hasher = (await createSHA256()).init();
    let t0 = performance.now();
    for (let done = 0; done < total; done += buffer.length) for (let o = 0; o < buffer.length; o += 512 * 1024) hasher.update(buffer.subarray(o, o + 512 * 1024));
    hasher.digest('binary');
    const hashWasmMs = performance.now() - t0;
    t0 = performance.now();
    for (let done = 0; done < total; done += buffer.length) await crypto.subtle.digest('SHA-256', buffer);
    return { hashWasmMs, webCryptoMs: performance.now() - t0 };
  },
};

export type BenchWorkerApi = typeof api;
Comlink.expose(api);
