export { createTestDatabase, type TestDatabase } from './test-database.js';
export { testGlobalSetup } from './global-setup.js';
export { ensureTemplateDatabase } from './template-database.js';
export { replaceDatabaseName } from './database-url.js';
