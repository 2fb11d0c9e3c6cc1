/**
 * The Reed–Solomon SIMD kernel in the browser (src/core/gf256-simd.ts): it compiles synchronously on the
 * page's main thread (Chromium refuses sync compiles over 4 KiB there) and in a module Worker (where the
 * protect engine runs), and gives the JS loop's bytes in both.
 */
import { expect, test } from './test.js';

type Rs = typeof import('../../src/core/reed-solomon.js');

/** Runs in the page or a Worker: which kernel loaded, and do SIMD and JS agree on encode, rebuild and accumulate? */
async function check(moduleUrl: string) {
  const rs = (await import(/* @vite-ignore */ moduleUrl)) as Rs;
  const n = 8;
  const p = 2;
  const length = 100_003;
  const data = Array.from({ length: n }, (_, j) => Uint8Array.from({ length }, (_, i) => (i * 131 + j * 17 + (i >>> 7)) & 0xff));
  const same = (a: Uint8Array[], b: Uint8Array[]) => a.length === b.length && a.every((row, r) => row.length === b[r]!.length && row.every((x, k) => x === b[r]![k]));
  const kernel = rs.useRsKernel('auto');
  const simd = rs.rsEncode(data, p);
  const rows = [...data, ...simd];
  const basis = [2, 3, 4, 5, 6, 7, 8, 9];
  const rebuilt = rs.rsCombine(rs.rebuildCoefficients(n, p, basis, [0, 1]), basis.map((b) => rows[b]!));
  const accumulated = Array.from({ length: p }, () => new Uint8Array(length));
  for (let j = n - 1; j >= 0; j--) for (let at = 0; at < length; at += 40_000) rs.rsAccumulate(accumulated, rs.parityCoefficients(n, p, j), data[j]!.subarray(at, at + 40_000), at);
  rs.useRsKernel('js');
  const js = rs.rsEncode(data, p);
  rs.useRsKernel('auto');
  return { kernel, encodeSame: same(simd, js), rebuilt: same(rebuilt, data.slice(0, 2)), accumulated: same(accumulated, js) };
}

test('the SIMD kernel loads on the main thread and in a module Worker, with the JS loop’s bytes', async ({ page }) => {
  await page.goto('/tests/browser/harness.html');
  const moduleUrl = '/src/core/reed-solomon.ts';
  const expected = { kernel: 'simd', encodeSame: true, rebuilt: true, accumulated: true };
  expect(await page.evaluate(check, moduleUrl)).toEqual(expected);
  const inWorker = await page.evaluate(async ([source, url]) => {
    const script = `const check = ${source};\nself.onmessage = async (e) => postMessage(await check(e.data));`;
    const worker = new Worker(URL.createObjectURL(new Blob([script], { type: 'text/javascript' })), { type: 'module' });
    const result = await new Promise((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage(new URL(url, location.href).href);
    });
    worker.terminate();
    return result;
  }, [check.toString(), moduleUrl] as const);
  expect(inWorker).toEqual(expected);
});
