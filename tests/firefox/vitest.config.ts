import { defineConfig } from 'vitest/config';

/** The cross-engine suite: stock Firefox ESR driven by puppeteer-core over WebDriver BiDi (`npm run test:firefox`). */
export default defineConfig({
  test: {
    include: ['tests/firefox/**/*.test.ts'],
    environment: 'node',
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
