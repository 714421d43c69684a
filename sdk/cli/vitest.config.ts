import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default defineProject({
  ...sharedTestConfig,
  test: {
    ...sharedTestConfig.test,
    globalSetup: [...(sharedTestConfig.test?.globalSetup ?? []), './test/support/global-setup.ts'],
  },
});
