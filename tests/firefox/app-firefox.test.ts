/**
 * The cross-engine suite in stock Firefox ESR (WebDriver BiDi): the built app with its service worker, and
 * protect → upload → open in a fresh profile for an image, a small file, a PDF and a file of 100 MiB, byte
 * for byte or pixel for pixel; a protect while a persistent-storage prompt stays unanswered; and which of
 * the engine's paths Firefox takes (its fallbacks for Chromium-only options).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAppStack, type AppStack } from '../browser/app-stack.js';
import { click, clickToStart, deep, fill, launchFirefox, waitFor } from './firefox.js';

const PHOTO = new URL('../fixtures/photo-board.jpg', import.meta.url).pathname;
const DICOM = new URL('../fixtures/CT_small.dcm', import.meta.url).pathname;
const KEY = 'adk21937';
const MiB = 1024 * 1024;

let stack: AppStack;
let dir: string;
const browsers: Browser[] = [];

async function browser(): Promise<Browser> {
  const b = await launchFirefox();
  browsers.push(b);
  return b;
}

/** What each page printed (console, uncaught errors), for the failure message of a test that times out. */
const printed = new WeakMap<Page, string[]>();

function recent(page: Page): string {
  const lines = printed.get(page) ?? [];
  return lines.length ? `\npage console (last ${Math.min(lines.length, 20)}):\n${lines.slice(-20).join('\n')}` : '\n(the page printed nothing)';
}

async function freshPage(): Promise<Page> {
  const page = await (await browser()).newPage();
  const lines: string[] = [];
  printed.set(page, lines);
  page.on('console', (message) => {
    lines.push(`${message.type()}: ${message.text()}`);
    // The engine client's own diagnostics (a call retried on a fresh worker) are printed whatever happens.
    if (message.text().startsWith('ehr-vault engine:')) process.stderr.write(`page console (${new Date().toISOString()}): ${message.text()}\n`);
  });
  page.on('pageerror', (error) => {
    lines.push(`pageerror: ${String(error)}${error instanceof Error && error.stack ? `\n${error.stack}` : ''}`);
    // At once, too, with the time: a flow that then waits out its timeout shows what came before.
    process.stderr.write(`page error (${new Date().toISOString()}): ${String(error)}${process.env.EHRV_TRACE && error instanceof Error ? `\n${error.stack}` : ""}\n`);
  });
  // The first-run introduction (a modal) has its own test in the Chromium suite; here it is marked as seen.
  // Only on the app's origin: on about:blank (the new tab's first document) localStorage throws "SecurityError:
  // The operation is insecure" — the page error every fresh profile used to log, from this line, not the app.
  await page.evaluateOnNewDocument(() => {
    if (location.protocol.startsWith('http')) localStorage.setItem('ehrv.intro-seen', '1');
  });
  if (process.env.EHRV_TRACE) {
    await page.evaluateOnNewDocument(() => {
      addEventListener('unhandledrejection', (e) => console.warn(`unhandledrejection: ${String(e.reason)} ${(e.reason as Error)?.stack ?? ''} ${(e.reason as { name?: string })?.name ?? ''}`));
      addEventListener('error', (e) => console.warn(`error event: ${e.message} at ${e.filename}:${e.lineno}:${e.colno} ${(e.error as Error)?.stack ?? ''}`));
    });
    page.on('console', (m) => process.stderr.write(`console ${m.type()}: ${m.text()}\n`));
  }
  return page;
}

beforeAll(async () => {
  stack = await startAppStack();
  dir = await mkdtemp(join(tmpdir(), 'ehrv-firefox-'));
});

/** A failed attempt is printed even when its retry passes (vitest.config.ts allows one). */
beforeEach(({ task, onTestFailed }) => {
  onTestFailed(() => console.warn(`FAILED ATTEMPT of "${task.name}": ${(task.result?.errors ?? []).map((e) => e.message).join('\n')}`));
});

/** Each test's browsers are closed after it: several Firefox processes at once starve a 2-core machine. */
afterEach(async () => {
  await Promise.all(browsers.splice(0).map((b) => b.close().catch(() => undefined)));
});

afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const log = (what: string) => process.env.EHRV_TRACE && console.info(`${new Date().toISOString()} ${what}`);

/** The protect view's record cards, newest first: record id and sync state. */
function cards(): { id: string; sync: string }[] {
  const view = document.querySelector('ev-app')?.shadowRoot?.querySelector('ev-protect-view')?.shadowRoot;
  // An error card (ev-error-card) keeps its code in its own shadow root: looked for there too.
  const error = view?.querySelector('[data-error-code]') ?? view?.querySelector('ev-error-card')?.shadowRoot?.querySelector('[data-error-code]');
  if (error) throw new Error(`protect failed: ${error.getAttribute('data-error-code')}: ${error.textContent?.trim()}`);
  return Array.from(view?.querySelectorAll('section[data-record-id]') ?? [], (s) => ({ id: s.getAttribute('data-record-id')!, sync: s.querySelector('[data-sync-state]')?.getAttribute('data-sync-state') ?? '' }));
}

/** The protect view's progress panel, if one is shown. */
function protectState(): { phase?: string; done?: number; total?: number; busy: boolean } {
  const view = document.querySelector('ev-app')?.shadowRoot?.querySelector('ev-protect-view')?.shadowRoot;
  const panel = view?.querySelector('ev-progress-panel') as unknown as { phase?: string; done?: number; total?: number } | null;
  return { busy: Boolean(panel), ...(panel ? { phase: panel.phase, done: panel.done, total: panel.total } : {}), ...(view ? {} : { view: 'gone' }) };
}

/** Protects `path` in the protect view (already open: no navigation, which would dismiss a prompt). */
async function protect(page: Page, path: string, key = KEY): Promise<string> {
  if (!page.url().endsWith('#/protect')) await page.goto(`${stack.appUrl}/#/protect`);
  await deep(page, '#pick');
  const before = (await page.evaluate(cards)).length;
  await page.evaluate((n) => (document.body.dataset.cardsBefore = String(n)), before);
  const input = await deep(page, '#pick');
  await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(path);
  await fill(page, '#key', key);
  log('protect click');
  // Started: a progress panel, a new record card or an error on the protect view.
  await clickToStart(page, () => deep(page, 'button', /^Protect/), () => {
    const view = document.querySelector('ev-app')?.shadowRoot?.querySelector('ev-protect-view')?.shadowRoot;
    return Boolean(view?.querySelector('ev-progress-panel, [data-error-code]') || view?.querySelector('ev-error-card')?.shadowRoot?.querySelector('[data-error-code]')) || (view?.querySelectorAll('section[data-record-id]').length ?? 0) > Number(document.body.dataset.cardsBefore ?? 0);
  });
  const waitCards = async (ok: (c: { id: string; sync: string }[]) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await page.evaluate(cards);
      if (ok(now)) return;
      if (Date.now() > deadline) throw new Error(`protect of ${path}: cards ${JSON.stringify(now)}, progress ${JSON.stringify(await page.evaluate(protectState))}${recent(page)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  await waitCards((c) => c.length > before, 240_000);
  log('protected');
  await waitCards((c) => c[0]!.sync === 'synced', 240_000);
  log('synced');
  // The result card's share text (the sequence key field has a Show button of its own).
  const shareText = await page.evaluate(async () => {
    const view = document.querySelector('ev-app')?.shadowRoot?.querySelector('ev-protect-view')?.shadowRoot;
    const secret = view?.querySelector('section[data-record-id] ev-secret-text[label="Share text"]');
    const show = Array.from(secret?.shadowRoot?.querySelectorAll('button') ?? []).find((b) => b.textContent?.trim() === 'Show');
    show?.click();
    for (let i = 0; i < 100; i++) {
      const code = secret?.shadowRoot?.querySelector('code[data-secret]');
      if (code?.textContent) return code.textContent.trim();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return '';
  });
  if (!shareText) throw new Error('No share text on the result card');
  return shareText;
}

async function openShared(page: Page, shareText: string, key = KEY): Promise<void> {
  await page.goto(`${stack.appUrl}/#/open`);
  await fill(page, '#share', shareText);
  await fill(page, '#seq', key);
  // Started: a progress panel, the result or an error on the open view.
  await clickToStart(page, () => deep(page, 'button', /^Open$/), () => {
    const view = document.querySelector('ev-app')?.shadowRoot?.querySelector('ev-open-view')?.shadowRoot;
    return Boolean(view?.querySelector('ev-progress-panel, [data-error-code]') || view?.querySelector('ev-error-card')?.shadowRoot?.querySelector('[data-error-code]') || Array.from(view?.querySelectorAll('a') ?? []).some((a) => a.textContent?.trim() === 'Save the original file') || view?.querySelector('ev-image-viewer'));
  });
}

/**
 * SHA-256 of the opened file: the Blob behind the app's download link (the app's CSP allows no fetch of
 * blob: URLs, so it is taken from the open view), once the link is shown.
 */
function openState(): { link: boolean; error?: string; phase?: string; done?: number; total?: number } {
  const view = document.querySelector('ev-app')?.shadowRoot?.querySelector('ev-open-view')?.shadowRoot;
  // The open view shows a failure in an ev-error-card, whose code is in the card's own shadow root: before,
  // this looked only in the view's, so an open that failed looked like one that never started or stalled.
  const error = view?.querySelector('[data-error-code]') ?? view?.querySelector('ev-error-card')?.shadowRoot?.querySelector('[data-error-code]');
  if (error) return { link: false, error: `${error.getAttribute('data-error-code')}: ${error.textContent?.trim()}` };
  const link = Array.from(view?.querySelectorAll('a') ?? []).some((a) => a.textContent?.trim() === 'Save the original file');
  const panel = view?.querySelector('ev-progress-panel') as unknown as { phase?: string; done?: number; total?: number } | null;
  return { link, ...(panel ? { phase: panel.phase, done: panel.done, total: panel.total } : {}) };
}

async function openedFileDigest(page: Page): Promise<{ digest: string; size: number; name: string }> {
  const deadline = Date.now() + 240_000;
  for (let state = await page.evaluate(openState); !state.link; state = await page.evaluate(openState)) {
    if (state.error || Date.now() > deadline) throw new Error(`open: ${JSON.stringify(state)}${recent(page)}`);
    log(`open ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const link = await deep(page, 'a', /^Save the original file$/);
  const name = await link.evaluate((a) => (a as HTMLAnchorElement).download);
  const view = await deep(page, 'ev-open-view');
  return view.evaluate(async (el, n) => {
    const blob = (el as unknown as { outcome: { blob: Blob } }).outcome.blob;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    return { digest: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''), size: blob.size, name: n };
  }, name);
}

async function viewerPixelsDigest(page: Page): Promise<string> {
  const viewer = await deep(page, 'ev-image-viewer', undefined, 120_000);
  return viewer.evaluate(async (el) => {
    const canvas = (el.shadowRoot ?? el).querySelector('canvas')!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return `${canvas.width}x${canvas.height}:${Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  });
}

async function originalPixelsDigest(page: Page, path: string): Promise<string> {
  const base64 = (await readFile(path)).toString('base64');
  return page.evaluate(async (b64) => {
    const blob = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/jpeg' });
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const data = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    return `${bitmap.width}x${bitmap.height}:${Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', data)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
  }, base64);
}

/** A small but real PDF (one page of text). */
function pdfBytes(): Buffer {
  const objects = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>', '', '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'];
  const text = 'BT /F1 12 Tf 20 50 Td (Discharge summary) Tj ET';
  objects[3] = `<< /Length ${text.length} >>\nstream\n${text}\nendstream`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

describe('Firefox ESR (WebDriver BiDi)', () => {
  it('loads the app; a service worker controls it after a reload', async () => {
    const page = await freshPage();
    await page.goto(stack.appUrl);
    await deep(page, 'ev-app');
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const worker = registration.active!;
      if (worker.state !== 'activated') await new Promise<void>((resolve) => worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()));
    });
    await page.reload();
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    expect(await page.evaluate(() => navigator.userAgent)).toMatch(/Firefox\/\d+/);
  });

  it('an image is protected, uploaded and opened pixel for pixel in a fresh profile', async () => {
    const shareText = await protect(await freshPage(), PHOTO);
    expect(shareText).toMatch(/^ehrv1:/);
    const other = await freshPage();
    await openShared(other, shareText);
    await deep(other, 'ev-image-viewer', undefined, 120_000);
    expect(await viewerPixelsDigest(other)).toBe(await originalPixelsDigest(other, PHOTO));
  });

  it('a DICOM file and a PDF come back byte for byte in a fresh profile', async () => {
    const pdf = join(dir, 'discharge-summary.pdf');
    await writeFile(pdf, pdfBytes());
    const page = await freshPage();
    const shares = [await protect(page, DICOM), await protect(page, pdf)];
    const other = await freshPage();
    for (const [i, path] of [DICOM, pdf].entries()) {
      await openShared(other, shares[i]!);
      const opened = await openedFileDigest(other);
      const original = await readFile(path);
      expect(opened).toEqual({ digest: sha256(original), size: original.length, name: path.slice(path.lastIndexOf('/') + 1) });
    }
  });

  it('a file of 100 MiB is protected (scratch file, one writer) and opened byte for byte in a fresh profile', async () => {
    const big = join(dir, 'whole-slide.bin');
    const bytes = randomBytes(100 * MiB + 12_345);
    await writeFile(big, bytes);
    const started = Date.now();
    const shareText = await protect(await freshPage(), big);
    const protectedAt = Date.now();
    const other = await freshPage();
    await openShared(other, shareText);
    const opened = await openedFileDigest(other);
    expect(opened).toEqual({ digest: sha256(bytes), size: bytes.length, name: 'whole-slide.bin' });
    console.info(`firefox 100 MiB: protect+upload ${protectedAt - started} ms, open (download+decrypt+digest) ${Date.now() - protectedAt} ms`);
  });

  it('protect completes while a persistent-storage prompt stays unanswered', async () => {
    const page = await freshPage();
    await page.goto(`${stack.appUrl}/#/protect`);
    await deep(page, '#pick');
    // Firefox really prompts: persist() waits for an answer nobody gives.
    const asked = await page.evaluate(() => {
      const w = window as unknown as { persistAnswer?: string };
      w.persistAnswer = 'pending';
      void navigator.storage.persist().then((granted) => (w.persistAnswer = String(granted)));
      return new Promise((resolve) => setTimeout(() => resolve(w.persistAnswer), 3000));
    });
    expect(asked).toBe('pending');
    const shareText = await protect(page, DICOM, 'Zq8#mTx4Lw');
    expect(shareText).toMatch(/^ehrv1:/);
    // Offered after storing; asking from the app's own button leaves the next protect unaffected too.
    await click(await deep(page, 'button', /^Keep records on this device$/));
    await deep(page, '[data-persistence="asking"]');
    expect(await protect(page, PHOTO, 'Zq8#mTx4Lw')).toMatch(/^ehrv1:/);
    await deep(page, '[data-persistence="asking"]', undefined, 1);
  });
});

describe('Firefox ESR: engine paths', () => {
  let vite: ViteDevServer;
  beforeAll(async () => {
    vite = await createServer({ configFile: new URL('../../vite.config.ts', import.meta.url).pathname, server: { port: 0, host: '127.0.0.1', strictPort: false }, logLevel: 'error' });
    await vite.listen();
  });
  afterAll(async () => vite?.close());

  it('Workers read with BYOB readers and write scratch files through one writer (readwrite-unsafe is Chromium-only); QR codes are read in a Worker', async () => {
    const page = await freshPage();
    const address = vite.httpServer!.address() as { port: number };
    await page.goto(`http://127.0.0.1:${address.port}/tests/browser/harness.html`);
    await waitFor(page, () => document.body.dataset.ready === 'true');
    const modes = await page.evaluate(() => (window as unknown as { harness: { engineModes(): Promise<unknown> } }).harness.engineModes());
    expect(modes).toEqual({ read: 'byob', readOk: true, sink: 'disk-relay', scratchAfter: 0 });
    // No BarcodeDetector in Firefox: QR codes are read by jsQR in the app's Worker.
    expect(await page.evaluate(() => 'BarcodeDetector' in globalThis)).toBe(false);
    const share = 'ehrv1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8w';
    expect(await page.evaluate((text) => (window as unknown as { harness: { decodeQrInWorker(t: string): Promise<string | null> } }).harness.decodeQrInWorker(text), share)).toBe(share);
  });
});
