/**
 * The static file server must never serve a byte from outside dist/, whatever the encoding of the path
 * (static-app.test.ts covers the plain cases). A marker file sits next to dist/ and in the repository
 * root's place; every request must answer 400/404, or the app shell, and never contain the marker.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../server/start.js';
import { makeDist, makeTempDir } from './helpers.js';
import { rawRequest, requestText } from './raw-http.js';

const MARKER = 'SECRET-OUTSIDE-DIST-7f3a';

const TRAVERSALS = [
  '/../secret.txt',
  '/..%2fsecret.txt',
  '/..%2Fsecret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2E/secret.txt',
  '/%2e%2e%2fsecret.txt',
  '/.%2e/secret.txt',
  '/%2e./secret.txt',
  '/assets/../../secret.txt',
  '/assets/%2e%2e/%2e%2e/secret.txt',
  '/assets/..%2f..%2fsecret.txt',
  '/..%5csecret.txt',
  '/%5c..%5csecret.txt',
  '/..\\secret.txt',
  '/assets/..\\..\\secret.txt',
  '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt',
  '/%c0%ae%c0%ae/secret.txt',
  '/%c0%af..%c0%afsecret.txt',
  '/%e0%80%ae%e0%80%ae/secret.txt',
  '/..;/secret.txt',
  '//../secret.txt',
  '/%2f..%2f..%2fsecret.txt',
  '/.well-known/../../secret.txt',
  '/%00/../secret.txt',
  '/secret.txt%00.js',
  '/assets/%00',
  '/index.html%00',
  '/%2e%2e%00/secret.txt',
  '/sub/%2e%2e/%2e%2e/secret.txt',
  '/.secret.txt',
  '/.env',
  '/.git/config',
  '/%2egit/config',
  'http://127.0.0.1/../secret.txt',
  'http://evil.example/../../secret.txt',
];

describe('static file server: nothing outside dist, however the path is written', () => {
  let stack: Stack;
  let port: number;
  let host: string;
  let shell: string;
  let removeTemp: () => Promise<void>;

  beforeAll(async () => {
    const temp = await makeTempDir('static-hardening');
    removeTemp = temp.remove;
    // temp/secret.txt and temp/.git/config sit beside temp/dist; temp/sub/dist would be one level deeper.
    await writeFile(join(temp.path, 'secret.txt'), MARKER);
    await writeFile(join(temp.path, '.secret.txt'), MARKER);
    await mkdir(join(temp.path, '.git'));
    await writeFile(join(temp.path, '.git', 'config'), MARKER);
    const dist = await makeDist(temp.path);
    await writeFile(join(dist, '.env'), MARKER);
    stack = await startStack({ appPort: 0, localS3: { port: 0, dataDir: `${temp.path}/s3` }, distDir: dist });
    port = Number(new URL(stack.appUrl).port);
    host = `127.0.0.1:${port}`;
    shell = await (await fetch(`${stack.appUrl}/`)).text();
  });

  afterAll(async () => {
    await stack?.close();
    await removeTemp?.();
  });

  it.each(TRAVERSALS)('GET and HEAD %s: 400/404 or the app shell, never the file', async (path) => {
    for (const method of ['GET', 'HEAD']) {
      const response = await rawRequest(port, requestText(method, path, host));
      expect(response.text).not.toContain(MARKER);
      if (response.status === 200) {
        // A client-side route: the app shell itself, nothing else.
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        if (method === 'GET') expect(response.body).toBe(shell);
      } else {
        expect([400, 404]).toContain(response.status);
      }
    }
  });

  it('serves the files that are inside dist', async () => {
    expect((await rawRequest(port, requestText('GET', '/assets/app-abc123.js', host))).body).toBe('console.log("app");');
    expect((await rawRequest(port, requestText('GET', '/assets/%61pp-abc123.js', host))).body).toBe('console.log("app");');
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('refuses %s on static paths with 405 and Allow: GET, HEAD', async (method) => {
    const response = await rawRequest(port, requestText(method, '/index.html', host, { 'Content-Length': '2' }, '{}'));
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('sends the security headers on errors too', async () => {
    const response = await rawRequest(port, requestText('GET', '/../secret.txt', host));
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });
});
