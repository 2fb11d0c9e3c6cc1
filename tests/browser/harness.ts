/**
 * Test-only page: exposes the real engine (workers, comlink, WebCrypto) to Playwright, plus helpers that
 * generate images in the browser. Nothing here is part of the app build.
 */
import * as Comlink from 'comlink';
import { EngineClient } from '../../src/services/engine-client.js';
import type { QrWorkerApi } from '../../src/workers/qr-worker.js';
import { generateRecordKey } from '../../src/core/keychain.js';
import { generateRecordId } from '../../src/core/object-names.js';
import { isEhrVaultError } from '../../src/core/errors.js';
import { createClinical } from './clinical-harness.js';
import { indexedDbCopiesBlobs, listScratch, newScratchName, sweepScratch } from '../../src/services/scratch-files.js';
import { SCRATCH_DIRECTORY } from '../../src/workers/scratch-file.js';

const engine = new EngineClient();

async function imageBlob(width: number, height: number, type: string, alpha: boolean, quality?: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(width, height);
  const d = image.data;
  let seed = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      seed = (seed * 1103515245 + 12345) >>> 0;
      d[i] = (x * 255) / Math.max(1, width - 1);
      d[i + 1] = (y * 255) / Math.max(1, height - 1);
      d[i + 2] = (seed >>> 24) & 0xff;
      // Every alpha level, partial ones included, when asked for.
      d[i + 3] = alpha ? (x * 7 + y * 3) & 0xff : 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas.convertToBlob({ type, ...(quality !== undefined ? { quality } : {}) });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const KEY = 'adk21937';
/** Small Argon2id parameters: these tests are about the engine; the app e2e tests run the format's default. */
const KDF = { memoryKiB: 64, passes: 1, parallelism: 1 };
const RID = generateRecordId();

async function roundTripImage(blob: Blob, compress: boolean) {
  const recordKey = generateRecordKey();
  const decoded = await engine.decode(blob);
  const protectedRecord = await engine.protect({ source: blob, name: 'scan.png', mime: blob.type, mode: 'image', sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF, compress, noisePreview: true });
  const shuffled = [...protectedRecord.objects].reverse().map((f) => f.blob);
  const opened = await engine.open({ objects: shuffled, sequenceKey: KEY, recordKey, recordId: RID });
  if (opened.kind !== 'image') throw new Error('expected an image');
  return {
    width: decoded.width,
    height: decoded.height,
    metadata: opened.metadata,
    fragmentCount: protectedRecord.objects.filter((f) => f.slot < KEY.length).length,
    parityCount: protectedRecord.objects.filter((f) => f.slot >= KEY.length).length,
    objectSizes: new Set(protectedRecord.objects.map((f) => f.blob.size)).size,
    pixelsEqual: equalBytes(decoded.pixels, opened.pixels),
    pixelBytes: opened.pixels.length,
    noise: protectedRecord.noise ? { width: protectedRecord.noise.width, height: protectedRecord.noise.height } : undefined,
  };
}

async function roundTripFile(blob: Blob, name: string) {
  const recordKey = generateRecordKey();
  const protectedRecord = await engine.protect({ source: blob, name, mime: blob.type, mode: 'file', sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF });
  const opened = await engine.open({ objects: protectedRecord.objects.map((f) => f.blob), sequenceKey: KEY, recordKey, recordId: RID });
  if (opened.kind !== 'file') throw new Error('expected a file');
  const a = new Uint8Array(await blob.arrayBuffer());
  const b = new Uint8Array(await opened.blob.arrayBuffer());
  const ciphertextHasPlaintext = await Promise.all(protectedRecord.objects.map(async (f) => new TextDecoder('latin1').decode(await f.blob.arrayBuffer()).includes(name)));
  return { bytesEqual: equalBytes(a, b), size: b.length, metadata: opened.metadata, nameInFragments: ciphertextHasPlaintext.some(Boolean) };
}

async function errorCode<T>(run: () => Promise<T>): Promise<string> {
  try {
    await run();
    return 'no error';
  } catch (error) {
    return isEhrVaultError(error) ? error.code : `untyped: ${String(error)}`;
  }
}

/**
 * An engine call whose worker never answers (stallMs short for the test) or whose script fails to load:
 * each must end with ENGINE_STALLED and leave no worker running, instead of waiting for ever.
 */
async function stalledCalls() {
  const outcomes: { code: string; running: number }[] = [];
  const workers = [
    () => new Worker(new URL('./silent-worker.ts', import.meta.url), { type: 'module' }),
    () => new Worker('/no-such-engine-worker.js', { type: 'module' }),
  ];
  for (const createWorker of workers) {
    const client = new EngineClient(createWorker, { stallMs: 1500 });
    let code = 'resolved';
    try {
      await client.protect({ source: new Blob([new Uint8Array(1000)]), name: 'x.bin', sequenceKey: 'Adk12345', recordKey: generateRecordKey(), recordId: generateRecordId() } as never);
    } catch (error) {
      code = isEhrVaultError(error) ? error.code : String(error);
    }
    outcomes.push({ code, running: client.running });
  }
  return outcomes;
}

async function cancelMidway(size: number) {
  const recordKey = generateRecordKey();
  const source = new Blob([new Uint8Array(size)]);
  const controller = new AbortController();
  let progressSeen = 0;
  const code = await errorCode(() =>
    engine.protect(
      { source, name: 'big.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'encrypt' && p.done > 0) {
            progressSeen = p.done;
            controller.abort();
          }
        },
      },
    ),
  );
  return { code, progressSeen, running: engine.running };
}

async function tamper(blob: Blob) {
  const recordKey = generateRecordKey();
  const p = await engine.protect({ source: blob, name: 'a.bin', mime: '', mode: 'file', sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF, parity: 0 });
  const blobs = p.objects.map((f) => f.blob);
  const bytes = new Uint8Array(await blobs[3]!.arrayBuffer());
  bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
  const damaged = [...blobs];
  damaged[3] = new Blob([bytes]);
  return {
    tampered: await errorCode(() => engine.open({ objects: damaged, sequenceKey: KEY, recordKey, recordId: RID })),
    missing: await errorCode(() => engine.open({ objects: blobs.slice(1), sequenceKey: KEY, recordKey, recordId: RID })),
    wrongKey: await errorCode(() => engine.open({ objects: blobs, sequenceKey: KEY, recordKey: generateRecordKey(), recordId: RID })),
    wrongSequence: await errorCode(() => engine.open({ objects: blobs, sequenceKey: 'adk21973', recordKey, recordId: RID })),
    running: engine.running,
  };
}

function randomBlob(size: number): Blob {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  return new Blob([bytes]);
}

/**
 * A file of several segments through the worker pool, its output in memory or in a scratch file on disk:
 * bytes equal, which sink was used, and scratch files before and after release.
 */
async function poolRoundTrip(size: number, sink: 'memory' | 'disk') {
  const blob = randomBlob(size);
  const recordKey = generateRecordKey();
  const p = await engine.protect({ source: blob, name: 'pool.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF, sink });
  const o = await engine.open({ objects: [...p.objects].reverse().map((f) => f.blob), sequenceKey: KEY, recordKey, recordId: RID, sink });
  if (o.kind !== 'file') throw new Error('expected a file');
  const bytesEqual = equalBytes(new Uint8Array(await blob.arrayBuffer()), new Uint8Array(await o.blob.arrayBuffer()));
  const during = await listScratch();
  await engine.releaseScratch(p.scratch);
  await engine.releaseScratch(o.scratch);
  return { bytesEqual, size: o.blob.size, protectScratch: Boolean(p.scratch), openScratch: Boolean(o.scratch), scratchDuring: during.length, scratchAfter: (await listScratch()).length, running: engine.running };
}

/** Damages fragment payloads (by position in the chain) of a multi-segment record; returns the error. */
async function poolTamper(size: number, positions: number[]) {
  const recordKey = generateRecordKey();
  const p = await engine.protect({ source: randomBlob(size), name: 'a.bin', mime: '', mode: 'file', sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF, sink: 'disk', parity: 0 });
  const blobs = await Promise.all(
    p.objects.map(async (f, i) => {
      if (!positions.includes(i)) return new Blob([await f.blob.arrayBuffer()]);
      const bytes = new Uint8Array(await f.blob.arrayBuffer());
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      return new Blob([bytes]);
    }),
  );
  await engine.releaseScratch(p.scratch);
  try {
    await engine.open({ objects: blobs, sequenceKey: KEY, recordKey, recordId: RID, sink: 'disk' });
    return { code: 'no error', indexChars: [] as string[], scratchAfter: (await listScratch()).length };
  } catch (error) {
    return { code: isEhrVaultError(error) ? error.code : String(error), indexChars: isEhrVaultError(error) ? (error.details.indexChars as string[]) : [], scratchAfter: (await listScratch()).length, chain: KEY };
  }
}

async function cancelToDisk(size: number) {
  const controller = new AbortController();
  let progressSeen = 0;
  const code = await errorCode(() =>
    engine.protect(
      { source: randomBlob(size), name: 'big.bin', mime: 'application/octet-stream', mode: 'file', sequenceKey: KEY, recordKey: generateRecordKey(), recordId: RID, kdf: KDF, sink: 'disk' },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'encrypt' && p.done > 0 && !controller.signal.aborted) {
            progressSeen = p.done;
            controller.abort();
          }
        },
      },
    ),
  );
  return { code, progressSeen, running: engine.running, scratchAfter: (await listScratch()).length };
}

/** A scratch file of a tab that is gone (no lock) is swept; one of this tab is kept. */
async function sweep() {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(SCRATCH_DIRECTORY, { create: true });
  await dir.getFileHandle('00000000-dead-tab0-0000-000000000000.1.bin', { create: true });
  const mine = newScratchName();
  await dir.getFileHandle(mine, { create: true });
  const removed = await sweepScratch();
  const left = await listScratch();
  await dir.removeEntry(mine);
  return { removed, left };
}

/** Draws `text` as a QR code (dark on light, 4 px per module) and decodes it with the app's jsQR Worker. */
async function decodeQrInWorker(text: string): Promise<string | null> {
  const { create } = await import('qrcode');
  const qr = create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const canvas = new OffscreenCanvas((size + 8) * 4, (size + 8) * 4);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000';
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (qr.modules.get(r, c)) context.fillRect((c + 4) * 4, (r + 4) * 4, 4, 4);
  const worker = new Worker(new URL('../../src/workers/qr-worker.ts', import.meta.url), { type: 'module' });
  try {
    const api = Comlink.wrap<QrWorkerApi>(worker);
    const frame = canvas.transferToImageBitmap();
    return await api.decode(Comlink.transfer(frame, [frame]));
  } finally {
    worker.terminate();
  }
}

/** Which engine-specific paths this browser's Workers take (engine-modes-worker.ts); the scratch file is removed. */
async function engineModes(nested = false): Promise<{ read?: string; readOk?: boolean; sink?: string; error?: string; scratchAfter: number }> {
  const worker = new Worker(new URL('./engine-modes-worker.ts', import.meta.url), { type: 'module' });
  const scratch = newScratchName();
  try {
    const answer = await new Promise<{ read?: string; readOk?: boolean; sink?: string; error?: string }>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
      worker.postMessage({ scratch, nested });
    });
    await engine.releaseScratch(scratch);
    return { ...answer, scratchAfter: (await listScratch()).length };
  } finally {
    worker.terminate();
  }
}

/**
 * Parity (FORMAT.md §4.4): a record protected with the engine's default p opens with objects removed
 * and one payload damaged (within the limit), and fails with FRAGMENT_MISSING beyond it.
 */
async function parityRoundTrip(blob: Blob, mode: 'file' | 'image', remove: readonly number[], damage?: number) {
  const recordKey = generateRecordKey();
  const p = await engine.protect({ source: blob, name: 'scan.bin', mime: blob.type, mode, sequenceKey: KEY, recordKey, recordId: RID, kdf: KDF });
  let objects = p.objects.map((f) => f.blob);
  if (damage !== undefined) {
    const bytes = new Uint8Array(await objects[damage]!.arrayBuffer());
    bytes[92 + Math.floor((bytes.length - 92) / 2)]! ^= 0x10;
    objects[damage] = new Blob([bytes]);
  }
  objects = objects.filter((_, i) => !remove.includes(i)).reverse();
  try {
    const opened = await engine.open({ objects, sequenceKey: KEY, recordKey, recordId: RID });
    const a = new Uint8Array(await blob.arrayBuffer());
    const b = opened.kind === 'file' ? new Uint8Array(await opened.blob.arrayBuffer()) : undefined;
    return { objectCount: p.objects.length, ok: true, bytesEqual: b ? equalBytes(a, b) : undefined, pixelBytes: opened.kind === 'image' ? opened.pixels.length : undefined };
  } catch (error) {
    const e = error as { code?: string; details?: { missing?: string[] } };
    return { objectCount: p.objects.length, ok: false, code: e.code, missing: e.details?.missing };
  }
}

const harness = { engine, stalledCalls, engineModes, decodeQrInWorker, parityRoundTrip, indexedDbCopiesBlobs, listScratch, poolRoundTrip, poolTamper, cancelToDisk, sweep, imageBlob, roundTripImage, roundTripFile, cancelMidway, tamper, generateRecordKey, clinical: createClinical(engine) };
declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.body.dataset.ready = 'true';
