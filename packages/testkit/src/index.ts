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
export { startFakeDownstream } from './downstream/fake-downstream.js';
export { queueScript, statusesByAttempt } from './downstream/scripts.js';
export {
  formatIdempotencyKey,
  parseIdempotencyKey,
  type ParsedKey,
  type RequestKind,
} from './downstream/idempotency-key.js';
export type {
  Behaviour,
  DownstreamRequest,
  Effect,
  FakeDownstream,
  Fate,
  Reply,
  RequestFilter,
  Script,
} from './downstream/types.js';
