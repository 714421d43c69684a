export { createLocalPostgres, type LocalPostgres, type LocalPostgresOptions } from './local-postgres.js';
export { findFreePort, findFreePorts } from './find-free-port.js';
export type { ServerExit } from './server-process.js';
