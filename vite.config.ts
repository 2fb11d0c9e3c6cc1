import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { connectSourcesFromEnv, headersFile, injectCspMeta } from './server/static-build.js';

/** The CSP travels with dist/: a meta policy in index.html and a _headers file (server/static-build.ts). */
function staticCsp(): Plugin {
  const connectSrc = connectSourcesFromEnv(process.env.EHRV_CONNECT_SRC);
  return {
    name: 'ehrv-static-csp',
    apply: 'build',
    transformIndexHtml: { order: 'post', handler: (html) => injectCspMeta(html, connectSrc) },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: '_headers', source: headersFile(connectSrc) });
    },
  };
}

export default defineConfig({
  build: {
    target: 'es2022',
    // No source maps in the production build (they would be served with it); EHRV_SOURCEMAP=1 for debugging.
    sourcemap: process.env.EHRV_SOURCEMAP === '1',
  },
  worker: {
    format: 'es',
  },
  optimizeDeps: {
    // Imported only inside Workers, which the dev server's dependency scan does not follow: listed here
    // so they are pre-bundled up front instead of triggering a page reload on first use.
    include: [
      'comlink',
      'dicom-parser',
      'fast-png',
      'fflate',
      'jpeg-lossless-decoder-js',
      '@cornerstonejs/codec-charls/decodewasmjs',
      '@cornerstonejs/codec-openjpeg/decodewasmjs',
      '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    ],
    // libwebp's glue finds its .wasm next to itself (new URL(…, import.meta.url)): pre-bundling would move
    // the glue away from it (src/workers/webp-body.ts).
    exclude: ['@jsquash/webp'],
  },
  plugins: [
    staticCsp(),
    VitePWA({
      // The page registers the worker itself (src/pwa/register.ts) so updates can wait for consent.
      injectRegister: false,
      registerType: 'prompt',
      includeAssets: ['icons/icon.svg', 'icons/apple-touch-icon.png'],
      manifest: {
        name: 'EHR Vault',
        short_name: 'EHR Vault',
        description: 'Protect medical records on your device before they reach the cloud.',
        id: '/',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        background_color: '#f5fafc',
        theme_color: '#0b5c7a',
        categories: ['medical', 'health', 'productivity'],
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest,wasm}'],
        navigateFallback: 'index.html',
        // Presign answers and fragments must never be cached: they are short-lived and per user.
        navigateFallbackDenylist: [/^\/api\//],
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
});
