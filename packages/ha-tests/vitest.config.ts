import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

/**
 * The shared settings without the global Postgres setup (the scenario brings up its own Patroni cluster and never
 * touches the machine's Postgres), one file at a time, long timeouts: the cluster takes a while to bootstrap.
 */
export default defineProject({
  ...sharedTestConfig,
  test: {
    ...sharedTestConfig.test,
    globalSetup: [],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
