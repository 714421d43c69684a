import type { UserWorkspaceConfig } from 'vitest/config';

/** Test settings every workspace package shares: source tests only, workspace packages resolved to src. */
export const sharedTestConfig: UserWorkspaceConfig = {
  resolve: { conditions: ['development', 'node', 'default'] },
  ssr: { resolve: { conditions: ['development', 'node', 'default'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
};
