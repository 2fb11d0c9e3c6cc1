/**
 * Issue #14: the built dist/ had no CSP of its own (hosted on a plain static host it ran without any)
 * and shipped source maps. The build now carries a meta policy in index.html and a _headers file, and
 * no source maps. This spec serves dist/ from a bare static server that sends no security header at
 * all, and checks that the app still runs under the policy: injected inline script is refused.
 */
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mimeTypeFor } from '../../server/mime-types.js';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

declare global {
  interface Window {
    __ran?: boolean;
    __staticViolations: string[];
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

let server: Server;
let origin: string;
test.beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('dist/ is missing: run `npm run build` first.');
  // A plain static host: files and a content type, no headers of its own, index.html for app routes.
  server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file = join(DIST, path);
    if (!file.startsWith(DIST) || !existsSync(file) || extname(file) === '') file = join(DIST, 'index.html');
    res.writeHead(200, { 'content-type': mimeTypeFor(file) });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

test('dist/ carries its CSP (meta + _headers) and no source maps', () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  expect(meta).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(meta).toContain("object-src 'none'");
  expect(meta).toContain("base-uri 'none'");
  // The policy comes before any script.
  expect(html.indexOf('http-equiv="Content-Security-Policy"')).toBeLessThan(html.indexOf('<script'));
  const headers = readFileSync(join(DIST, '_headers'), 'utf8');
  expect(headers).toContain("frame-ancestors 'none'");
  expect(headers).toContain('X-Content-Type-Options: nosniff');
  const files = filesUnder(DIST);
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  for (const file of files.filter((f) => f.endsWith('.js'))) expect(readFileSync(file, 'utf8'), file).not.toContain('sourceMappingURL=');
});

test('on a static host that sends no headers, the app runs under the build\'s policy and injected script is refused', async ({ page }) => {
  await page.addInitScript(() => {
    window.__staticViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__staticViolations.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${origin}/`);
  expect(response!.headers()['content-security-policy']).toBeUndefined();
  await expect(page.locator('ev-app nav a').first()).toBeVisible({ timeout: 30_000 });
  // The app itself needs nothing the policy forbids.
  expect(await page.evaluate(() => window.__staticViolations)).toEqual([]);

  // Script injected the way an XSS bug would inject it does not run.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__ran = true';
    document.body.append(script);
  });
  await expect.poll(() => page.evaluate(() => window.__staticViolations.length)).toBeGreaterThan(0);
  expect(await page.evaluate(() => window.__ran ?? false)).toBe(false);
  expect((await page.evaluate(() => window.__staticViolations)).some((v) => v.startsWith('script-src'))).toBe(true);
});
