import { defineConfig } from 'vitest/config';

/** The cross-engine suite: stock Firefox ESR driven by puppeteer-core over WebDriver BiDi (`npm run test:firefox`). */
export default defineConfig({
  test: {
    include: ['tests/firefox/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // One more attempt for a flow that failed: CI once saw two flows hang in stock Firefox that never hung in
    // dozens of runs here (fresh profiles, the machine loaded or not). A failure is still printed in full
    // (onTestFailed in the suite), so a real regression shows as a red run or a printed first attempt.
    retry: 1,
  },
});
