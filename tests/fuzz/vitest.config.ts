import { defineConfig } from 'vitest/config';

/**
 * Runs the format fuzzers on their own (`npm run fuzz`). The short campaign also runs in `npm test`
 * through the root vitest.config.ts; this config exists so a long campaign needs nothing else.
 */
export default defineConfig({
  test: {
    include: ['tests/fuzz/**/*.test.ts'],
    environment: 'node',
    // Each property sets its own timeout from its number of runs; this is the floor.
    testTimeout: 60_000,
  },
});
