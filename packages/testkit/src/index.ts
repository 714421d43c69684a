export { waitFor, type WaitForOptions } from './wait-for.js';
export { waitForHttp } from './wait-for-http.js';
export {
  buildServiceArgs,
  spawnService,
  type ServiceExit,
  type ServiceProcess,
  type SpawnServiceOptions,
} from './spawn-service.js';
export * from './engine-process.js';
