import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { headersFile, injectCspMeta, metaContentSecurityPolicy } from '../../server/static-build.js';
import { makeDist, makeTempDir } from './helpers.js';

/** fetch() normalises "..", so traversal attempts go through node:http verbatim. */
function rawGet(appUrl: string, path: string): Promise<number> {
  const { hostname, port } = new URL(appUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static app server', () => {
  let stack: Stack;
  let bare: Stack;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('static');
    removeTemp = temp.remove;
    const dist = await makeDist(temp.path);
    // What a build made with EHRV_SOURCEMAP=1 leaves next to the code, and the build's meta policy.
    await writeFile(join(dist, 'assets', 'app-abc123.js.map'), '{"version":3,"sources":["../../src/main.ts"],"sourcesContent":["secret source"]}');
    await writeFile(join(dist, '_headers'), headersFile(['https:']));
    await writeFile(join(dist, 'index.html'), injectCspMeta('<!doctype html><html><head><title>EHR Vault</title><script type="module" src="/assets/app-abc123.js"></script></head><body></body></html>', ['https:']));
    stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir: `${temp.path}/s3` }, distDir: dist });
    bare = await startStack({ appPort: 0, s3: { endpoint: stack.s3Url, ...stack.s3Credentials! }, distDir: `${temp.path}/missing-dist` });
  });

  afterAll(async () => {
    await bare?.close();
    await stack?.close();
    await removeTemp?.();
  });

  it('serves index.html with a strict CSP naming the S3 origin', async () => {
    const response = await fetch(`${stack.appUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toContain('<title>EHR Vault</title>');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(csp).toContain(`connect-src 'self' ${new URL(stack.s3Url).origin};`);
    expect(csp).toContain("worker-src 'self' blob:");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('never serves source maps or the _headers file (issue #14)', async () => {
    for (const path of ['/assets/app-abc123.js.map', '/assets/app-abc123.js.map?x=1', '/assets/%61pp-abc123.js.map', '/_headers']) {
      const response = await fetch(`${stack.appUrl}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('secret source');
    }
  });

  it('replaces the build\'s meta policy by the exact header policy (both would apply, and the meta one cannot name the store)', async () => {
    const html = await (await fetch(`${stack.appUrl}/`)).text();
    expect(html).toContain('<title>EHR Vault</title>');
    expect(html).not.toMatch(/http-equiv/i);
    expect(await (await fetch(`${stack.appUrl}/records`)).text()).not.toMatch(/http-equiv/i);
  });

  it('builds a meta policy without the directives a meta policy ignores, and a _headers file with all of them', () => {
    const meta = metaContentSecurityPolicy(['https://s3.example.org']);
    expect(meta).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(meta).toContain("connect-src 'self' https://s3.example.org");
    expect(meta).not.toContain('frame-ancestors');
    const headers = headersFile(['https://s3.example.org']);
    expect(headers).toMatch(/^\/\*\n {2}Content-Security-Policy: default-src 'self';.*frame-ancestors 'none'/);
    expect(headers).toContain('X-Content-Type-Options: nosniff');
    const html = injectCspMeta('<html><head><meta charset="utf-8"><script src="/a.js"></script></head></html>', ['https:']);
    expect(html.indexOf('http-equiv="Content-Security-Policy"')).toBeLessThan(html.indexOf('<script'));
  });

  it('uses the right MIME types and caching', async () => {
    const script = await fetch(`${stack.appUrl}/assets/app-abc123.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(await script.text()).toBe('console.log("app");');

    const worker = await fetch(`${stack.appUrl}/assets/worker-def456.js`);
    expect(worker.headers.get('content-type')).toBe('text/javascript; charset=utf-8');

    const manifest = await fetch(`${stack.appUrl}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toBe('application/manifest+json; charset=utf-8');

    const serviceWorker = await fetch(`${stack.appUrl}/sw.js`);
    expect(serviceWorker.headers.get('cache-control')).toBe('no-cache');
  });

  it('falls back to the app shell for client routes and 404s missing files', async () => {
    const route = await fetch(`${stack.appUrl}/records/123`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>EHR Vault</title>');
    expect((await fetch(`${stack.appUrl}/assets/missing.js`)).status).toBe(404);
  });

  it('never serves files outside dist', async () => {
    expect(await rawGet(stack.appUrl, '/../package.json')).toBe(404);
    expect(await rawGet(stack.appUrl, '/assets/%2e%2e/%2e%2e/package.json')).toBe(404);
    expect(await rawGet(stack.appUrl, '/%00index.html')).toBe(404);
    expect(await rawGet(stack.appUrl, '/.env')).toBe(404);
  });

  it('refuses other methods', async () => {
    const response = await fetch(`${stack.appUrl}/`, { method: 'POST' });
    expect(response.status).toBe(405);
  });

  it('answers 503 with a build hint when dist is missing, while the API keeps working', async () => {
    const page = await fetch(`${bare.appUrl}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build');
    expect((await fetch(`${bare.appUrl}/api/health`)).status).toBe(200);
  });

  it('serves a development token through /api/config when no tokens are configured', async () => {
    expect(stack.token).toMatch(/^dev-/);
    const config = (await (await fetch(`${stack.appUrl}/api/config`)).json()) as { defaultToken: string };
    expect(config.defaultToken).toBe(stack.token);
  });
});
