import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { mimeTypeFor } from './mime-types.js';
import { staticSecurityHeaders } from './security-headers.js';
import { stripCspMeta } from './static-build.js';

export interface StaticOptions {
  /** The built app (vite build output). */
  distDir: string;
  csp: string;
}

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>EHR Vault: app not built</title>
<h1>The app has not been built yet</h1>
<p>Run <code>npm run build</code> (<code>vite build</code>) and reload, or start everything with <code>npm start</code>.</p>
`;

async function fileStat(path: string) {
  try {
    const info = await stat(path);
    return info.isFile() ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Maps a URL path to a file strictly inside `root`, or undefined for anything suspicious. */
function safePath(root: string, pathname: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || (segment.startsWith('.') && segment !== '.well-known'))) return undefined;
  const full = resolve(root, ...segments);
  return full === root || full.startsWith(root + sep) ? full : undefined;
}

function cacheControl(pathname: string): string {
  // Vite fingerprints everything under /assets/; everything else (index.html, sw.js, manifest) must revalidate.
  return pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

export function createStaticHandler(options: StaticOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const root = resolve(options.distDir);
  const baseHeaders = staticSecurityHeaders(options.csp);

  function sendText(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...baseHeaders, 'content-type': type, 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  }

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const indexPath = join(root, 'index.html');
    const index = await fileStat(indexPath);
    if (index === undefined) {
      sendText(res, 503, 'text/html; charset=utf-8', NOT_BUILT_PAGE);
      return;
    }

    let path = safePath(root, pathname);
    // Source maps are never served (a build made with EHRV_SOURCEMAP=1 keeps them on disk only); nor is
    // the static hosts' _headers file.
    if (path === undefined || pathname.endsWith('.map') || pathname === '/_headers') {
      sendText(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
      return;
    }
    let info = await fileStat(path);
    if (info === undefined && (await stat(path).then((s) => s.isDirectory(), () => false))) {
      path = join(path, 'index.html');
      info = await fileStat(path);
    }
    if (info === undefined) {
      // Client-side routes (no file extension) get the app shell; missing assets are a real 404.
      if (extname(pathname) !== '') {
        sendText(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
        return;
      }
      path = indexPath;
      info = index;
    }

    if (path.endsWith('.html')) {
      // The build's meta policy is a guess made without the store's address; the header is exact.
      const body = stripCspMeta(await readFile(path, 'utf8'));
      res.writeHead(200, {
        ...baseHeaders,
        'content-type': mimeTypeFor(path),
        'content-length': String(Buffer.byteLength(body)),
        'cache-control': 'no-cache',
        'last-modified': info.mtime.toUTCString(),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }

    res.writeHead(200, {
      ...baseHeaders,
      'content-type': mimeTypeFor(path),
      'content-length': String(info.size),
      'cache-control': path === indexPath ? 'no-cache' : cacheControl(pathname),
      'last-modified': info.mtime.toUTCString(),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(path)
      .on('error', () => res.destroy())
      .pipe(res);
  };
}
