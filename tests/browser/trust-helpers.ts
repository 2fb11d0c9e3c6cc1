/**
 * Helpers for the trust specs (tests/browser/trust-*.spec.ts; not a test file): the real stack with its
 * bucket directory exposed, the app driven through its UI, every request recorded, IndexedDB and the
 * service-worker caches read back from the page, and a byte-level leak finder.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, type BrowserContext, type Page, type Request } from '@playwright/test';
import { bucketReader } from '../integration/stack-helpers.js';
import { startStack } from '../../server/start.js';

export interface TrustStack {
  readonly appUrl: string;
  readonly s3Url: string;
  readonly bucket: ReturnType<typeof bucketReader>;
  close(): Promise<void>;
}

/** The built app + presign service + embedded S3 (like app-stack.ts), with the bucket readable on disk. */
export async function startTrustStack(): Promise<TrustStack> {
  if (!existsSync(new URL('../../dist/index.html', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` first.');
  const dataDir = mkdtempSync(join(tmpdir(), 'ehrv-trust-s3-'));
  const stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir }, rateLimit: { burst: 1000, perSecond: 1000 }, log: () => {} });
  return {
    appUrl: stack.appUrl,
    s3Url: stack.s3Url,
    bucket: bucketReader(dataDir),
    close: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A file for `setInputFiles`: any name (slashes, markup, emoji), any bytes, any claimed type. */
export interface FilePayload {
  readonly name: string;
  readonly mimeType: string;
  readonly buffer: Buffer;
}

/** Picks files and types the sequence key on the Protect view; does not press Protect. */
export async function pickFiles(page: Page, appUrl: string, files: FilePayload | FilePayload[] | string, sequenceKey: string): Promise<void> {
  await page.goto(`${appUrl}/#/protect`);
  await page.locator('#pick').setInputFiles(files as Parameters<Page['setInputFiles']>[1]);
  await page.locator('ev-sequence-key-field input').fill(sequenceKey);
}

/** Protects one file through the UI and waits until its card says the upload finished (or just stored). */
export async function protectThroughUi(page: Page, appUrl: string, file: FilePayload | string, sequenceKey: string, until: 'stored' | 'synced' = 'synced'): Promise<{ recordId: string; shareText: string }> {
  await pickFiles(page, appUrl, file, sequenceKey);
  const cards = page.locator('section[data-record-id]');
  const before = await recordIdsOnPage(page);
  await page.getByRole('button', { name: /^Protect/ }).click();
  await expect(cards).toHaveCount(before.length + 1, { timeout: 60_000 });
  const recordId = (await recordIdsOnPage(page)).find((id) => !before.includes(id))!;
  const card = page.locator(`section[data-record-id="${recordId}"]`);
  // The share text is offered only once the record is in the cloud: before that nobody else could open it.
  if (until === 'stored') return { recordId, shareText: '' };
  await expect(card.locator('[data-sync-state]')).toHaveAttribute('data-sync-state', 'synced', { timeout: 60_000 });
  // (The Protect view reuses result cards by position, so a card may already be revealed.)
  const show = card.getByRole('button', { name: 'Show', exact: true });
  if (await show.isVisible()) await show.click();
  const shareText = (await card.locator('code[data-secret]').textContent())!.trim();
  return { recordId, shareText };
}

async function recordIdsOnPage(page: Page): Promise<string[]> {
  return page.locator('section[data-record-id]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-record-id')!));
}

export async function openSharedThroughUi(page: Page, appUrl: string, shareText: string, sequenceKey: string): Promise<void> {
  await page.goto(`${appUrl}/#/open`);
  await page.locator('#share').fill(shareText);
  await page.locator('#seq').fill(sequenceKey);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: string;
  readonly body: Buffer | null;
  readonly from: string;
  /** Sent by the service worker itself (its precache and pass-through fetches). */
  readonly serviceWorker: boolean;
}

/**
 * Records every request a browser context sends (pages, their workers and the service worker): URL, all
 * headers and the body where Playwright exposes it. `settle()` waits for the header reads to finish.
 */
export function recordRequests(context: BrowserContext, label: string) {
  const requests: RecordedRequest[] = [];
  const pending: Promise<void>[] = [];
  const onRequest = (request: Request) => {
    pending.push(
      // allHeaders() never settles for a request whose Worker was stopped before the answer came (a
      // worker script still loading when its call ended); the provisional headers are what was sent then.
      Promise.race([request.allHeaders(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer')), 5_000))])
        .catch(() => request.headers())
        .then((headers) => {
          requests.push({ method: request.method(), url: request.url(), headers: JSON.stringify(headers), body: request.postDataBuffer(), from: label, serviceWorker: request.serviceWorker() !== null });
        }),
    );
  };
  context.on('request', onRequest);
  return {
    requests,
    async settle(): Promise<RecordedRequest[]> {
      await Promise.all(pending);
      return requests;
    },
    stop: () => context.off('request', onRequest),
  };
}

/** One thing read back from IndexedDB: its JSON (binary parts replaced by markers) and its binary parts. */
export interface DumpedItem {
  readonly store: string;
  readonly key: string;
  readonly json: string;
  readonly binaries: Buffer[];
}

export interface VaultDump {
  readonly counts: Record<string, number>;
  readonly items: DumpedItem[];
}

/**
 * Reads every store of an IndexedDB database from the page, as a thief with the profile would see it:
 * Blobs, typed arrays and ArrayBuffers as their bytes, CryptoKeys as what script can learn of them.
 */
export async function dumpIndexedDb(page: Page, dbName = 'ehr-vault'): Promise<VaultDump> {
  const raw = await page.evaluate(async (name) => {
    const toBase64 = (bytes: Uint8Array) => {
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const serialise = async (value: unknown, bins: string[]): Promise<unknown> => {
      if (value instanceof Blob) {
        bins.push(toBase64(new Uint8Array(await value.arrayBuffer())));
        return { $blob: bins.length - 1, size: value.size, type: value.type };
      }
      if (value instanceof ArrayBuffer) {
        bins.push(toBase64(new Uint8Array(value)));
        return { $bytes: bins.length - 1 };
      }
      if (ArrayBuffer.isView(value)) {
        bins.push(toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));
        return { $bytes: bins.length - 1 };
      }
      if (value instanceof CryptoKey) return { $cryptoKey: value.algorithm.name, extractable: value.extractable, usages: value.usages };
      if (Array.isArray(value)) return Promise.all(value.map((v) => serialise(v, bins)));
      if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await serialise(v, bins);
        return out;
      }
      return value;
    };
    const items: { store: string; key: string; json: string; binaries: string[] }[] = [];
    const counts: Record<string, number> = {};
    for (const store of Array.from(db.objectStoreNames)) {
      const [keys, values] = await new Promise<[IDBValidKey[], unknown[]]>((resolve, reject) => {
        const tx = db.transaction(store, 'readonly');
        const keysRequest = tx.objectStore(store).getAllKeys();
        const valuesRequest = tx.objectStore(store).getAll();
        tx.oncomplete = () => resolve([keysRequest.result, valuesRequest.result]);
        tx.onerror = () => reject(tx.error);
      });
      counts[store] = values.length;
      for (const [i, value] of values.entries()) {
        const bins: string[] = [];
        const json = JSON.stringify(await serialise(value, bins));
        items.push({ store, key: JSON.stringify(keys[i]), json, binaries: bins });
      }
    }
    db.close();
    return { counts, items };
  }, dbName);
  return { counts: raw.counts, items: raw.items.map((i) => ({ ...i, binaries: i.binaries.map((b) => Buffer.from(b, 'base64')) })) };
}

/** records / fragments / outbox counts of the app's database (0 when it does not exist yet). */
export async function vaultCounts(page: Page): Promise<{ records: number; fragments: number; outbox: number }> {
  const { counts } = await dumpIndexedDb(page);
  return { records: counts.records ?? 0, fragments: counts.fragments ?? 0, outbox: counts.outbox ?? 0 };
}

/** Every request URL held by the Cache Storage of the page's origin (where the service worker caches). */
export async function cachedUrls(page: Page): Promise<{ caches: string[]; urls: string[] }> {
  return page.evaluate(async () => {
    const names = await caches.keys();
    const urls: string[] = [];
    for (const name of names) for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
    return { caches: names, urls };
  });
}

export interface Needle {
  readonly what: string;
  readonly bytes: Buffer;
}

export interface Haystack {
  readonly where: string;
  readonly bytes: Buffer;
}

/** Every (needle, haystack) pair where the needle's bytes occur: the leaks. */
export function findLeaks(haystacks: readonly Haystack[], needles: readonly Needle[]): string[] {
  const found: string[] = [];
  for (const hay of haystacks) for (const needle of needles) if (needle.bytes.length > 0 && hay.bytes.includes(needle.bytes)) found.push(`${needle.what} in ${hay.where}`);
  return found;
}

/** Text needles in the forms they could travel in: as is, URL-encoded, and as UTF-16LE (IndexedDB strings). */
export function textNeedles(what: string, text: string): Needle[] {
  const forms = new Set([text, encodeURIComponent(text), encodeURI(text), JSON.stringify(text).slice(1, -1)]);
  return [...[...forms].map((form, i) => ({ what: i === 0 ? what : `${what} (encoded)`, bytes: Buffer.from(form, 'utf8') })), { what: `${what} (UTF-16LE)`, bytes: Buffer.from(text, 'utf16le') }];
}

/** Key bytes in every encoding a careless client might use. */
export function keyNeedles(what: string, key: Uint8Array, keyText: string): Needle[] {
  const bytes = Buffer.from(key);
  const hex = bytes.toString('hex');
  const base64 = bytes.toString('base64');
  return [
    { what: `${what} (raw bytes)`, bytes },
    ...[hex, hex.toUpperCase(), base64, base64.replace(/=+$/, ''), bytes.toString('base64url'), keyText].flatMap((form, i) => textNeedles(`${what} (${['hex', 'HEX', 'base64', 'base64 unpadded', 'base64url', 'key text'][i]})`, form)),
  ];
}

/**
 * `count` windows of `size` bytes spread over `bytes`, skipping low-entropy stretches (runs of zeros in a
 * DICOM preamble, a white sky) that could occur anywhere by chance.
 */
export function plaintextWindows(what: string, bytes: Uint8Array, count: number, size = 32): Needle[] {
  const out: Needle[] = [];
  const step = Math.max(1, Math.floor((bytes.length - size) / count));
  for (let start = 0; start + size <= bytes.length && out.length < count; start += step) {
    // From each of `count` evenly spaced places, the first window there that is varied enough.
    for (let at = start; at < start + step && at + size <= bytes.length; at += 7) {
      const window = bytes.subarray(at, at + size);
      if (new Set(window).size >= 12) {
        out.push({ what: `${what} bytes @${at}`, bytes: Buffer.from(window) });
        break;
      }
    }
  }
  return out;
}
