import { defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.js';

export default defineProject({
  ...sharedTestConfig,
  test: {
    ...sharedTestConfig.test,
    include: ['test/**/*.test.ts'],
    globalSetup: [...(sharedTestConfig.test?.globalSetup ?? []), './test/browser/global-setup.ts'],
  },
});
