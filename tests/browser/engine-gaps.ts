/**
 * Safari 16.4's gaps, imposed on Chromium: no WebKit runs here, so the e2e flows run a second time in a
 * Chromium that lacks what Safari/iOS 16.4 lacks among the APIs the app uses (per @mdn/browser-compat-data,
 * see tests/unit/compat.test.ts). The shim goes into the page (an init script) and into every Worker: worker
 * scripts the page starts are fetched through request routing and get `import '/__engine-gaps.js'`
 * prepended, which ES modules evaluate before anything else they import. Requests of nested Workers (the
 * pool, started by the engine worker) are not routed: inside a Worker the shim wraps `Worker`, so that a
 * module worker starts from a blob that imports the real script and then runs the shim, in the same task,
 * before any message can arrive.
 */
import type { BrowserContext } from '@playwright/test';

export const SHIM_PATH = '/__engine-gaps.js';

/** Runs in every global (Window, DedicatedWorker). Each line names the gap it imposes. */
function safari164(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  if (g.__engineGaps) return;
  g.__engineGaps = 'safari-16.4';
  const remove = (owner: object | undefined, name: PropertyKey) => {
    if (owner && name in owner) delete (owner as Record<PropertyKey, unknown>)[name];
  };
  // Readable byte streams and BYOB readers: Safari 26.4. Blob.stream() is a default stream.
  for (const name of ['ReadableStreamBYOBReader', 'ReadableByteStreamController', 'ReadableStreamBYOBRequest']) remove(g, name);
  const getReader = ReadableStream.prototype.getReader;
  Object.defineProperty(ReadableStream.prototype, 'getReader', {
    configurable: true,
    writable: true,
    value(this: ReadableStream, options?: { mode?: string }) {
      if (options?.mode === 'byob') throw new TypeError("ReadableStreamBYOBReader needs a ReadableByteStreamController");
      return getReader.call(this);
    },
  });
  // ReadableStream async iteration: Safari 27 (not in 16.4).
  remove(ReadableStream.prototype, Symbol.asyncIterator);
  remove(ReadableStream.prototype, 'values');
  remove(ReadableStream, 'from');
  // createSyncAccessHandle's `mode` option: Chromium 121+ only. Without it a file has one handle at a time
  // (Chromium's own locking then refuses a second handle, across Workers, as Safari and Firefox do).
  const fileHandle = g.FileSystemFileHandle as { prototype: Record<string, unknown> } | undefined;
  if (fileHandle) {
    const create = fileHandle.prototype.createSyncAccessHandle as ((this: unknown) => Promise<unknown>) | undefined;
    if (create) {
      fileHandle.prototype.createSyncAccessHandle = function (this: unknown) {
        return create.call(this);
      };
    }
    // FileSystemFileHandle.createWritable: Safari 26.
    remove(fileHandle.prototype, 'createWritable');
  }
  // BarcodeDetector: not in Safari (behind a flag in 17).
  remove(g, 'BarcodeDetector');
  // createImageBitmap's premultiplyAlpha option: ignored before Safari 17.
  const createImageBitmap = g.createImageBitmap as ((...args: unknown[]) => Promise<ImageBitmap>) | undefined;
  if (createImageBitmap) {
    g.createImageBitmap = function (...args: unknown[]) {
      const last = args[args.length - 1];
      if (last && typeof last === 'object' && 'premultiplyAlpha' in last && !(last instanceof Blob)) {
        const { premultiplyAlpha: _ignored, ...rest } = last as Record<string, unknown>;
        args[args.length - 1] = rest;
      }
      return createImageBitmap.apply(globalThis, args);
    };
  }
  // Not in Safari 16.4: AbortSignal.any (17.4), Promise.withResolvers (17.4), Object/Map.groupBy (17.4),
  // ArrayBuffer transfer (17.4), Blob.bytes (18), Uint8Array base64 (18.2), Set methods (17),
  // Array.fromAsync (16.4 has it), Iterator helpers (18.4).
  remove(AbortSignal, 'any');
  remove(Promise, 'withResolvers');
  remove(Object, 'groupBy');
  remove(Map, 'groupBy');
  remove(ArrayBuffer.prototype, 'transfer');
  remove(ArrayBuffer.prototype, 'transferToFixedLength');
  remove(Blob.prototype, 'bytes');
  remove(Uint8Array, 'fromBase64');
  remove(Uint8Array, 'fromHex');
  remove(Uint8Array.prototype, 'toBase64');
  remove(Uint8Array.prototype, 'toHex');
  remove(Uint8Array.prototype, 'setFromBase64');
  for (const name of ['union', 'intersection', 'difference', 'symmetricDifference', 'isSubsetOf', 'isSupersetOf', 'isDisjointFrom']) remove(Set.prototype, name);
  const iterator = g.Iterator as { prototype?: object } | undefined;
  for (const name of ['map', 'filter', 'take', 'drop', 'flatMap', 'reduce', 'toArray', 'forEach', 'some', 'every', 'find']) remove(iterator?.prototype, name);
  remove(iterator, 'from');
  // Nested Workers: not routed (see above), so they start from a blob that imports the script, then shims.
  if (typeof (g as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined' && typeof g.Worker === 'function') {
    const NativeWorker = g.Worker as typeof Worker;
    g.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        if (options?.type !== 'module') {
          super(url, options);
          return;
        }
        const script = new URL(String(url), location.href).href;
        const source = `import ${JSON.stringify(script)};\n(${safari164.toString()})();\n`;
        super(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), options);
      }
    };
  }
}

export const SHIM_SOURCE = `(${safari164.toString()})();\n`;

/** Worker scripts: Vite's dev server (`?worker_file`) and the build (`/assets/*worker*.js`). */
export function isWorkerScript(url: URL): boolean {
  return url.searchParams.has('worker_file') || /\/assets\/[^/]*worker[^/]*\.js$/.test(url.pathname);
}

/** Worker scripts given the shim, by context: tests check the shim reached the Workers they rely on. */
const shimmed = new WeakMap<BrowserContext, string[]>();

export function shimmedWorkers(context: BrowserContext): readonly string[] {
  return shimmed.get(context) ?? [];
}

export async function installEngineGaps(context: BrowserContext): Promise<void> {
  if (shimmed.has(context)) return;
  const scripts: string[] = [];
  shimmed.set(context, scripts);
  await context.addInitScript({ content: SHIM_SOURCE });
  await context.route(
    (url) => url.pathname === SHIM_PATH,
    (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: SHIM_SOURCE }),
  );
  await context.route(isWorkerScript, async (route) => {
    const response = await route.fetch();
    const body = await response.text();
    scripts.push(new URL(route.request().url()).pathname.replace(/-[\w-]{8}\.js$/, '.js'));
    await route.fulfill({ response, body: `import '${SHIM_PATH}';\n${body}`, headers: { ...response.headers(), 'cache-control': 'no-store' } });
  });
}
