/** Builds the app's Content-Security-Policy; `connectOrigins` are the S3 (and any other API) origins. */
export function contentSecurityPolicy(connectOrigins: readonly string[]): string {
  const connect = ["'self'", ...new Set(connectOrigins)].join(' ');
  return [
    "default-src 'self'",
    // 'wasm-unsafe-eval' lets the DICOM codecs and the Reed–Solomon SIMD kernel (WebAssembly) compile; it allows no
    // JavaScript eval or inline script. Without it parity falls back to its slower JS loop (src/core/gf256-simd.ts).
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    `connect-src ${connect}`,
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers sent with every static response. */
export function staticSecurityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'permissions-policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
  };
}
