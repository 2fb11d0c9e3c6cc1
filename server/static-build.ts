import { contentSecurityPolicy, staticSecurityHeaders } from './security-headers.js';

/**
 * The Content-Security-Policy that travels with the static build (dist/), for hosting it on a plain
 * static host that sends no headers of its own:
 *
 * - a `<meta http-equiv="Content-Security-Policy">` in dist/index.html (every directive a meta policy
 *   honours: all but `frame-ancestors`, `report-uri` and `sandbox`);
 * - a `dist/_headers` file (Netlify / Cloudflare Pages syntax) with the full policy, `frame-ancestors`
 *   included, and the other security headers of server/security-headers.ts.
 *
 * `connectSrc` lists where the app may connect besides itself: the presign service and the object
 * store (set EHRV_CONNECT_SRC when building, e.g. "https://s3.eu-west-1.amazonaws.com"). Default
 * `https:`, any TLS origin, since the store is not known when building.
 *
 * The app server (server/static-handler.ts) removes the meta policy from index.html and sends the
 * exact policy, computed from the real store URL, as a header instead: both would apply at once, and
 * the build-time guess would block the embedded store (plain http on loopback).
 */
export const CSP_META_PATTERN = /<meta\s+http-equiv=["']Content-Security-Policy["'][^>]*>\s*/gi;

export function connectSourcesFromEnv(value: string | undefined): string[] {
  const entries = (value ?? '').split(/[\s,]+/).filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!/^(https?:\/\/[a-z0-9.*-]+(:\d{1,5})?|https:|wss:)$/i.test(entry)) {
      throw new Error(`EHRV_CONNECT_SRC: ${JSON.stringify(entry)} is not an origin like https://s3.example.org`);
    }
  }
  return entries.length > 0 ? entries : ['https:'];
}

/** The policy for the meta tag: the server's policy without the directives a meta policy ignores. */
export function metaContentSecurityPolicy(connectSrc: readonly string[]): string {
  return contentSecurityPolicy(connectSrc)
    .split('; ')
    .filter((directive) => !/^(frame-ancestors|report-uri|report-to|sandbox)\b/.test(directive))
    .join('; ');
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** index.html with the meta policy as the first element of <head> (before any script or style). */
export function injectCspMeta(html: string, connectSrc: readonly string[]): string {
  const tag = `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(metaContentSecurityPolicy(connectSrc))}">`;
  const withoutOld = html.replace(CSP_META_PATTERN, '');
  if (!/<head[^>]*>/i.test(withoutOld)) throw new Error('index.html has no <head>');
  return withoutOld.replace(/<head[^>]*>/i, (head) => `${head}\n    ${tag}`);
}

export function stripCspMeta(html: string): string {
  return html.replace(CSP_META_PATTERN, '');
}

/** dist/_headers: the full policy and security headers for every path; no caching of the shell. */
export function headersFile(connectSrc: readonly string[]): string {
  const headers = staticSecurityHeaders(contentSecurityPolicy(connectSrc));
  const lines = ['/*', ...Object.entries(headers).map(([name, value]) => `  ${name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())}: ${value}`)];
  lines.push('', '/index.html', '  Cache-Control: no-cache', '', '/sw.js', '  Cache-Control: no-cache', '');
  return lines.join('\n');
}
