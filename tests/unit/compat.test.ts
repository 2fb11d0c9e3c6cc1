/**
 * The compatibility check that cannot drift: every web API, method and call option the app's source uses
 * (found by the TypeScript checker: compat/scan-apis.ts) is compared with @mdn/browser-compat-data for the
 * supported browser versions (compat/targets.ts). A use that some supported browser lacks must be in
 * compat/guarded.ts with the file that guards it and its fallback; the fallbacks themselves run in the
 * `safari` Playwright project and in Firefox (tests/firefox/). eslint-plugin-compat alone misses instance
 * methods and call options, which is where the app's engine-specific paths were.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GUARDED } from './compat/guarded.js';
import { bcdHas, scanApis, supportedIn, type Use } from './compat/scan-apis.js';
import { SUPPORTED } from './compat/targets.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function missingIn(key: string): string[] {
  return Object.entries(SUPPORTED)
    .filter(([browser, version]) => !supportedIn(key, browser, version))
    .map(([browser, version]) => `${browser} ${version}`);
}

describe('browser compatibility (@mdn/browser-compat-data)', () => {
  const uses = scanApis(root);
  const gaps = uses.filter((u) => missingIn(u.key).length > 0);

  it('finds the APIs the app is known to use (the scan sees instance methods, globals and call options)', () => {
    const keys = new Set(uses.map((u) => u.key));
    for (const key of ['api.Blob.stream', 'api.SubtleCrypto.encrypt', 'api.StorageManager.getDirectory', 'api.ReadableStreamBYOBReader.read', 'api.createImageBitmap', 'api.OffscreenCanvas', 'api.FileSystemFileHandle.createSyncAccessHandle.mode', 'api.createImageBitmap.options_premultiplyAlpha_parameter', 'api.BarcodeDetector']) {
      expect(keys, key).toContain(key);
    }
    expect(uses.length).toBeGreaterThan(100);
  });

  it('every use that a supported browser lacks is guarded, in the file that uses it', () => {
    const unguarded = gaps.filter((u) => !GUARDED[u.key]?.files.includes(u.file));
    const report = (list: Use[]) => list.map((u) => `${u.file}:${u.line} ${u.key} — missing in ${missingIn(u.key).join(', ')}`).join('\n');
    expect(report(unguarded), 'add a fallback and list it in tests/unit/compat/guarded.ts, or use something every supported browser has').toBe('');
  });

  it('no guard is stale: each is still needed, and still used in each file it names', () => {
    for (const [key, guard] of Object.entries(GUARDED)) {
      expect(bcdHas(key), `${key} is not a @mdn/browser-compat-data feature`).toBe(true);
      expect(missingIn(key), `${key} works everywhere now: remove its guard entry`).not.toEqual([]);
      for (const file of guard.files) {
        expect(uses.some((u) => u.key === key && u.file === file), `${key} is no longer used in ${file}`).toBe(true);
      }
    }
  });
});
