import { defineConfig } from 'vitest/config';

/** The cross-engine suite: stock Firefox ESR driven by puppeteer-core over WebDriver BiDi (`npm run test:firefox`). */
export default defineConfig({
  test: {
    include: ['tests/firefox/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Two more attempts for a flow that failed: in stock Firefox a flow sometimes stalls with the engine
    // reporting nothing (the 100 MiB flow, run alone: about 1 in 5 here, after a protect click or after the
    // download of an open; not yet explained, see the session-5 note). Every failed attempt is printed in
    // full (onTestFailed in the suite), so a real regression still shows as a red run.
    retry: 2,
  },
});
