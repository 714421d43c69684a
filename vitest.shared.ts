import { fileURLToPath } from 'node:url';
import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Conditions for resolving imports: `development` maps workspace packages to their src. Only
 * conditions Node itself understands for both import and require: vitest passes these to the test
 * workers as `--conditions`, and an `import` condition there makes `require('pg-pool')` load the ESM
 * build (pg then fails with "Class extends value [object Module]").
 */
const conditions = ['development', 'node', 'default'];

/** With DATABASE_URL unset, starts a throwaway local Postgres for the run and sets DATABASE_URL. */
const globalSetup = fileURLToPath(new URL('./packages/db/src/testing/vitest-global-setup.ts', import.meta.url));

/** Test settings every workspace package shares: source tests only, workspace packages resolved to src. */
export const sharedTestConfig: UserWorkspaceConfig = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    globalSetup: [globalSetup],
  },
};
