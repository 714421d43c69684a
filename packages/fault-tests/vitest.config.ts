import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

const figuresSetup = fileURLToPath(new URL('./src/figures/figures-global-setup.ts', import.meta.url));

/**
 * The shared settings, plus: one file at a time (each scenario owns the machine's two cores, so its
 * timings and leases mean something), and a global setup that prints every scenario's figures at the end.
 */
export default defineProject({
  ...sharedTestConfig,
  test: {
    ...sharedTestConfig.test,
    fileParallelism: false,
    testTimeout: 180_000,
    globalSetup: [...(sharedTestConfig.test?.globalSetup as string[]), figuresSetup],
  },
});
