// The file vitest.shared.ts names as globalSetup (vitest wants a module whose default export is the setup).
export { testGlobalSetup as default } from './global-setup.js';
