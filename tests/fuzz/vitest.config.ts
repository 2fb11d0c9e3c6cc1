import { defineConfig } from 'vitest/config';

/**
 * Runs the format fuzzers on their own (`npm run fuzz`), together with the core unit tests whose helpers
 * they build on (tests/unit/core/craft.ts, helpers.ts): a long campaign then also re-checks the exact
 * §9 outcomes the fuzzers only classify. The short campaign also runs in `npm test` through the root
 * vitest.config.ts; this config exists so a long campaign needs nothing else. Filter by path to run part:
 * `vitest run tests/fuzz --config tests/fuzz/vitest.config.ts`.
 */
export default defineConfig({
  test: {
    include: ['tests/fuzz/**/*.test.ts', 'tests/unit/core/**/*.test.ts'],
    environment: 'node',
    // Each property sets its own timeout from its number of runs; this is the floor.
    testTimeout: 60_000,
  },
});
