import { defineConfig } from 'vitest/config';

/** The cross-engine suite: stock Firefox ESR driven by puppeteer-core over WebDriver BiDi (`npm run test:firefox`). */
export default defineConfig({
  test: {
    include: ['tests/firefox/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Two more attempts for a flow that failed: in stock Firefox under CI load the engine sometimes never
    // started a protect or an open (no first report; sessions 5 and 6). The engine client now sends such a
    // call once more to a fresh worker after 20 s (engine-client.ts); these attempts stay until CI shows
    // that is enough. Every failed attempt is printed in full (onTestFailed in the suite), with the error
    // the page shows, so a real regression still shows as a red run. Session 7's CI had the 100 MiB protect
    // end in ENGINE_STALLED twice *after* it had started (no progress for 120 s; never locally, 4/4 runs):
    // a third extra attempt, and the engine client now prints the call's last report when it stalls.
    retry: 3,
  },
});
