/** The bench page: every measurement is a function on `window.bench`, driven by bench/run.ts. */
import * as Comlink from 'comlink';
import type { BatchKdf } from '../src/core/batch-kdf.js';
import { generateRecordKey } from '../src/core/keychain.js';
import { generateRecordId } from '../src/core/object-names.js';
import { EngineClient } from '../src/services/engine-client.js';
import type { ProtectResult } from '../src/workers/engine-api.js';
import { inOrder } from '../src/core/ordered.js';
import { defaultTransport } from '../src/services/default-transport.js';
import { PresignClient, type CloudEndpoint } from '../src/services/presign-client.js';
import { fragmentObjectNames } from '../src/services/record-store.js';
import { sha256Base64 } from '../src/services/sha256.js';
import { TransferEngine } from '../src/services/transfer-engine.js';
import type { BenchWorkerApi } from './bench-worker.js';
import './clinical-bench.js';

const MiB = 1024 * 1024;
const KEY = 'adk21937';
/** One record id for every record of the bench: each has its own random record key. */
const RID = generateRecordId();
// Warm, as the app's (services/vault.ts): the next call's worker is started while the page waits.
const engine = new EngineClient(undefined, { warm: true });
/**
 * The sequence key's one Argon2id, stretched before anything is timed, as the app does: the protect view
 * stretches the chosen key while files are picked (ui/controllers/key-batch.ts), and a record of a live
 * batch opens without it. Argon2id itself is measured on its own (`kdf`).
 */
let keyBatch: Promise<BatchKdf> | undefined;
const batch = (): Promise<BatchKdf> => (keyBatch ??= engine.stretchBatch(KEY));

function benchWorker(): { api: Comlink.Remote<BenchWorkerApi>; stop: () => void } {
  const worker = new Worker(new URL('./bench-worker.ts', import.meta.url), { type: 'module' });
  return { api: Comlink.wrap<BenchWorkerApi>(worker), stop: () => worker.terminate() };
}

/** Longest main-thread task while `run` is in flight (Long Tasks API: tasks over 50 ms only). */
async function withLongTasks<T>(run: () => Promise<T>): Promise<{ result: T; ms: number; longestTaskMs: number }> {
  let longest = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longest = Math.max(longest, entry.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  const t0 = performance.now();
  const result = await run();
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  observer.disconnect();
  return { result, ms, longestTaskMs: Math.round(longest) };
}

let payload: Blob | undefined;
let benchDatabase: Promise<IDBDatabase> | undefined;

function benchDb(): Promise<IDBDatabase> {
  benchDatabase ??= new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('ehr-vault-bench', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('fragments');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return benchDatabase;
}
let lastProtect: ProtectResult | undefined;
let lastKey: Uint8Array | undefined;
let openFragments: Blob[] | undefined;

async function releaseResults(): Promise<void> {
  await engine.releaseScratch(lastProtect?.scratch);
  lastProtect = undefined;
}

async function clearStore(): Promise<void> {
  const db = await benchDb();
  await new Promise<void>((resolve) => {
    const tx = db.transaction('fragments', 'readwrite');
    tx.objectStore('fragments').clear();
    tx.oncomplete = () => resolve();
  });
}

const bench = {
  /** Argon2id alone, in a fresh Worker (the cost protect and open each pay once per record). */
  async kdf(runs: number): Promise<number[]> {
    const w = benchWorker();
    try {
      return await w.api.kdf(runs);
    } finally {
      w.stop();
    }
  },
  /**
   * A payload of `size` random bytes as a file on disk (the origin-private file system of the persistent
   * profile), like a file the user picked: reading it is a disk read, not a copy of in-memory Blob data.
   * Written from one random 16 MiB block so that building it is quick.
   */
  async makePayload(size: number): Promise<number> {
    const block = new Uint8Array(Math.min(size, 16 * MiB));
    for (let i = 0; i < block.length; i += 65536) crypto.getRandomValues(block.subarray(i, Math.min(block.length, i + 65536)));
    const handle = await (await navigator.storage.getDirectory()).getFileHandle('bench-payload.bin', { create: true });
    const writable = await handle.createWritable();
    for (let at = 0; at < size; at += block.length) await writable.write(at + block.length <= size ? block : block.subarray(0, size - at));
    await writable.close();
    payload = await handle.getFile();
    lastProtect = undefined;
    return payload.size;
  },

  async aes(total: number, callSize: number, workers: number): Promise<number> {
    const pool = Array.from({ length: workers }, benchWorker);
    try {
      const t0 = performance.now();
      await Promise.all(pool.map((w) => w.api.aesInMemory(Math.floor(total / workers), callSize)));
      return performance.now() - t0;
    } finally {
      pool.forEach((w) => w.stop());
    }
  },

  async sha256(total: number): Promise<{ hashWasmMs: number; webCryptoMs: number }> {
    const w = benchWorker();
    try {
      return await w.api.sha256(total);
    } finally {
      w.stop();
    }
  },

  async read(): Promise<number> {
    const w = benchWorker();
    try {
      return await w.api.readBlob(payload!);
    } finally {
      w.stop();
    }
  },

  async peer(name: 'sodium' | 'send'): Promise<number> {
    const w = benchWorker();
    try {
      return name === 'sodium' ? await w.api.sodiumSecretstream(payload!) : await w.api.sendRecords(payload!);
    } finally {
      w.stop();
    }
  },

  /** File → fragments as Blobs, where the app would put them or where asked. */
  async protect(choice: 'app' | 'memory' | 'disk' = 'app'): Promise<{ ms: number; longestTaskMs: number; fragments: number; bytes: number; sink: string }> {
    await releaseResults();
    lastKey = generateRecordKey();
    const key = lastKey;
    // 'app': as the app does, where services/result-sink.ts decides.
    const sink = choice === 'app' ? 'auto' : choice;
    const kdf = await batch();
    const r = await withLongTasks(() => engine.protect({ source: payload!, name: 'payload.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey: key, recordId: RID, sink, batch: kdf }));
    lastProtect = r.result;
    return { ms: r.ms, longestTaskMs: r.longestTaskMs, fragments: r.result.objects.length, bytes: r.result.objects.reduce((s, f) => s + f.blob.size, 0), sink: r.result.scratch ? 'disk' : 'memory' };
  },

  /**
   * Puts the fragments of the last protect in IndexedDB and reads them back, so that `open` starts from
   * where the app does: fragment Blobs backed by IndexedDB's files. Neither timed nor in the memory peak.
   */
  async prepareOpen(): Promise<void> {
    const db = await benchDb();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('fragments', 'readwrite');
      lastProtect!.objects.forEach((f, i) => tx.objectStore('fragments').put(f.blob, `open-${i}`));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    const count = lastProtect!.objects.length;
    await engine.releaseScratch(lastProtect!.scratch);
    lastProtect = undefined;
    openFragments = await new Promise<Blob[]>((resolve, reject) => {
      const tx = db.transaction('fragments', 'readonly');
      const out: Blob[] = [];
      for (let i = 0; i < count; i++) tx.objectStore('fragments').get(`open-${i}`).onsuccess = (e) => (out[i] = (e.target as IDBRequest<Blob>).result);
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
    });
  },

  /** Fragments → file, from the fragments `prepareOpen` put in IndexedDB and read back. */
  async open(sink: 'auto' | 'memory' | 'disk' = 'auto'): Promise<{ ms: number; longestTaskMs: number; bytes: number; sink: string }> {
    const fragments = openFragments!;
    openFragments = undefined;
    const kdf = await batch();
    const r = await withLongTasks(() => engine.open({ objects: fragments, sequenceKey: KEY, recordKey: lastKey!, recordId: RID, sink, batch: kdf }));
    if (r.result.kind !== 'file' || r.result.blob.size !== payload!.size) throw new Error('open gave the wrong size');
    const scratch = r.result.scratch;
    await engine.releaseScratch(scratch);
    await clearStore();
    return { ms: r.ms, longestTaskMs: r.longestTaskMs, bytes: r.result.blob.size, sink: scratch ? 'disk' : 'memory' };
  },

  /** Protect, then cache every fragment Blob in IndexedDB (the real path): total time. */
  async protectIntoIndexedDb(): Promise<{ ms: number; protectMs: number; storeMs: number }> {
    const db = await benchDb();
    const kdf = await batch();
    const t0 = performance.now();
    const key = generateRecordKey();
    const result = await engine.protect({ source: payload!, name: 'payload.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey: key, recordId: RID, sink: 'auto', batch: kdf });
    const t1 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction('fragments', 'readwrite');
      result.objects.forEach((f, i) => tx.objectStore('fragments').put(f.blob, i));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    const t2 = performance.now();
    await engine.releaseScratch(result.scratch);
    await clearStore();
    return { ms: t2 - t0, protectMs: t1 - t0, storeMs: t2 - t1 };
  },

  /**
   * Upload of a protected record to the local S3 (the embedded s3rver behind the presign service) as the
   * app uploads it (TransferEngine: presigning, the XHR transport with progress, the SHA-256 from the
   * catalog) against a raw PUT of the same fragment bytes with the same concurrency (fetch to URLs
   * presigned beforehand, untimed). `rounds` alternates the order (raw, app, app, raw, …) so that load
   * hits both alike. `rehashMs`: reading every fragment again to hash it, the work protect now does as it
   * produces the fragments (fragment-hashes.ts).
   */
  async upload(endpoint: CloudEndpoint, rounds = 2): Promise<{ appMs: number[]; rawMs: number[]; xhrMs: number[]; presignMs: number[]; longestTaskMs: number; bytes: number; objects: number; concurrency: number; rehashMs: number; hashedInProtect: boolean }> {
    await releaseResults();
    const key = generateRecordKey();
    const result = await engine.protect({ source: payload!, name: 'payload.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey: key.slice(), recordId: RID, sink: 'auto', batch: await batch() });
    lastProtect = result;
    const blobs = result.objects.map((o) => o.blob);
    const bytes = blobs.reduce((sum, b) => sum + b.size, 0);
    const t0 = performance.now();
    const digests = await Promise.all(blobs.map((b) => sha256Base64(b)));
    const rehashMs = performance.now() - t0;
    const hashedInProtect = result.objects.every((o, i) => o.sha256 === digests[i]);
    const transport = defaultTransport();
    const presigner = new PresignClient(endpoint, transport);
    const app = new TransferEngine({ presigner, transport });
    const appMs: number[] = [];
    const rawMs: number[] = [];
    // Where the app's time goes: the raw PUTs again through the app's XHR transport, and one presign call.
    const xhrMs: number[] = [];
    const presignMs: number[] = [];
    let longestTaskMs = 0;
    const runApp = async () => {
      const names = await fragmentObjectNames(generateRecordKey(), RID, blobs.length);
      const r = await withLongTasks(() => app.upload(result.objects.map((o, i) => ({ name: names[i]!, blob: o.blob, sha256: o.sha256 }))));
      appMs.push(r.ms);
      longestTaskMs = Math.max(longestTaskMs, r.longestTaskMs);
    };
    const presignFresh = async () => {
      const names = await fragmentObjectNames(generateRecordKey(), RID, blobs.length);
      const start = performance.now();
      const { urls } = await presigner.presign('put', names.map((name, i) => ({ name, size: blobs[i]!.size, sha256: digests[i]! })));
      presignMs.push(performance.now() - start);
      return urls;
    };
    const runRaw = async () => {
      const urls = await presignFresh();
      const start = performance.now();
      await inOrder(urls.length, app.concurrency, async (i) => {
        const response = await fetch(urls[i]!.url, { method: 'PUT', headers: urls[i]!.headers, body: blobs[i]! });
        if (!response.ok) throw new Error(`raw PUT answered ${response.status}`);
      });
      rawMs.push(performance.now() - start);
      const again = await presignFresh();
      const xhrStart = performance.now();
      await inOrder(again.length, app.concurrency, async (i) => {
        const response = await transport.send({ method: 'PUT', url: again[i]!.url, headers: again[i]!.headers, body: blobs[i]! });
        if (response.status >= 300) throw new Error(`XHR PUT answered ${response.status}`);
      });
      xhrMs.push(performance.now() - xhrStart);
    };
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        await runRaw();
        await runApp();
      } else {
        await runApp();
        await runRaw();
      }
    }
    await releaseResults();
    return { appMs, rawMs, xhrMs, presignMs, longestTaskMs, bytes, objects: blobs.length, concurrency: app.concurrency, rehashMs, hashedInProtect };
  },

  async release(): Promise<void> {
    await releaseResults();
    payload = undefined;
    await clearStore();
    await (await navigator.storage.getDirectory()).removeEntry('bench-payload.bin').catch(() => {});
  },

  /** A photo-like image of `width`×`height` (smooth gradients plus sensor noise), as JPEG. */
  async makePhoto(width: number, height: number): Promise<number> {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d')!;
    const gradient = context.createLinearGradient(0, 0, width, height);
    gradient.addColorStop(0, '#2a4d69');
    gradient.addColorStop(0.5, '#e0c9a6');
    gradient.addColorStop(1, '#4b86b4');
    context.fillStyle = gradient;
    context.fillRect(0, 0, width, height);
    const noise = context.getImageData(0, 0, width, Math.min(height, 512));
    for (let i = 0; i < noise.data.length; i += 4) {
      const n = (Math.random() - 0.5) * 24;
      noise.data[i] = noise.data[i]! + n;
      noise.data[i + 1] = noise.data[i + 1]! + n;
      noise.data[i + 2] = noise.data[i + 2]! + n;
    }
    for (let y = 0; y < height; y += 512) context.putImageData(noise, 0, y);
    payload = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
    return payload.size;
  },

  /** An X-ray-like scan: dark background, a bright soft-edged body, gray gradients, little noise, as PNG. */
  async makeScan(width: number, height: number): Promise<number> {
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#000';
    context.fillRect(0, 0, width, height);
    const g = context.createRadialGradient(width / 2, height / 2, width / 20, width / 2, height / 2, width / 2.2);
    g.addColorStop(0, '#d8d8d8');
    g.addColorStop(0.7, '#5a5a5a');
    g.addColorStop(1, '#000');
    context.fillStyle = g;
    context.beginPath();
    context.ellipse(width / 2, height / 2, width / 3, height / 2.4, 0, 0, Math.PI * 2);
    context.fill();
    payload = await canvas.convertToBlob({ type: 'image/png' });
    return payload.size;
  },

  async loadFixture(base64: string, type: string): Promise<number> {
    payload = new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type });
    return payload.size;
  },

  /** Decode + protect of the current image payload; then open + draw it on a canvas. */
  async imagePath(compress: boolean): Promise<{ width: number; height: number; protectMs: number; protectLongestTaskMs: number; openDrawMs: number; openLongestTaskMs: number; bodyBytes: number; pixelBytes: number; fragmentBytes: number }> {
    const key = generateRecordKey();
    const kdf = await batch();
    const p = await withLongTasks(() => engine.protect({ source: payload!, name: 'image', mime: payload!.type, mode: 'image', sequenceKey: KEY, recordKey: key, recordId: RID, compress, batch: kdf }));
    const { width, height } = p.result.metadata.image!;
    const o = await withLongTasks(async () => {
      const opened = await engine.open({ objects: p.result.objects.map((f) => f.blob), sequenceKey: KEY, recordKey: key, recordId: RID, display: true, batch: kdf });
      if (opened.kind !== 'image' || !opened.bitmap) throw new Error('expected an image with a bitmap');
      const canvas = document.getElementById('view') as HTMLCanvasElement;
      canvas.width = width;
      canvas.height = height;
      canvas.getContext('bitmaprenderer')!.transferFromImageBitmap(opened.bitmap);
      return opened;
    });
    return {
      width,
      height,
      protectMs: p.ms,
      protectLongestTaskMs: p.longestTaskMs,
      openDrawMs: o.ms,
      openLongestTaskMs: o.longestTaskMs,
      bodyBytes: p.result.metadata.byteLength,
      pixelBytes: width * height * 4,
      fragmentBytes: p.result.objects.reduce((s, f) => s + f.blob.size, 0),
    };
  },
};

declare global {
  interface Window {
    bench: typeof bench;
  }
}
window.bench = bench;
document.body.dataset.ready = 'true';
