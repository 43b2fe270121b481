import { defineConfig } from 'vitest/config';

/**
 * A guard against hangs, not a time budget: every wait in the tests is for a condition, and
 * this ceiling only ends a test or hook that never finishes. The slowest test takes about a
 * minute on a quiet 2-core machine; the ceiling leaves room for one many times slower.
 */
const HANG_CEILING_MS = 20 * 60_000;

export default defineConfig({
  // Tests run the TypeScript sources: workspace packages resolve through their `source` export
  // condition, not to dist/.
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: HANG_CEILING_MS,
    hookTimeout: HANG_CEILING_MS,
    teardownTimeout: HANG_CEILING_MS,
    pool: 'forks',
    // Processes the tests start run one tracker process unless a test asks for more.
    env: { TRACKER_WORKERS: '1' },
  },
});
