import { defineConfig, devices } from '@playwright/test';
import type { EngineGaps } from './tests/browser/test.js';

const PORT = Number(process.env.EHRV_TEST_PORT ?? 5199);

/** Debian's Chromium: Playwright cannot download its own browser here (see README). */
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
};

export default defineConfig<{ engineGaps: EngineGaps }>({
  testDir: 'tests/browser',
  timeout: 180_000,
  fullyParallel: false,
  workers: 1,
  // In CI one more attempt for a failed test: a red run there lands nothing, and a few long real-app flows
  // have timed out once on a loaded machine without failing again. Playwright lists such a test as
  // "flaky" with its first failure, so it stays visible; locally a failure fails.
  retries: process.env.CI ? 1 : 0,
  forbidOnly: true,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    launchOptions: chromiumLaunch,
    trace: 'off',
  },
  projects: [
    { name: 'phone', use: { ...devices['Pixel 7'], browserName: 'chromium', launchOptions: chromiumLaunch } },
    {
      name: 'tablet',
      testMatch: /app\.spec\.ts/,
      use: { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, browserName: 'chromium', launchOptions: chromiumLaunch },
    },
    {
      // The main flows again, in a Chromium with Safari 16.4's gaps imposed (tests/browser/engine-gaps.ts): each
      // fallback runs here. Service workers are blocked so that every Worker script is fetched, and shimmed.
      name: 'safari',
      testMatch: /(app|engine|clinical-dicom|cross-engine|qr-scan|key-card)\.spec\.ts/,
      grepInvert: /installable PWA/,
      use: { ...devices['Pixel 7'], browserName: 'chromium', launchOptions: chromiumLaunch, engineGaps: 'safari-16.4', serviceWorkers: 'block' },
    },
  ],
  webServer: {
    command: `npx vite --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/tests/browser/harness.html`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
