export {
  createClient,
  type ClientOptions,
  type OperatorActionOptions,
  type SagaFlowClient,
  type StartOptions,
  type StartedRun,
  type WaitOptions,
  type SignalAccepted,
  type SignalOptions,
} from './client.js';
export { SagaFlowError, SagaFlowTimeoutError } from './errors.js';
export type { WatchOptions } from './watch.js';
export * from './types.js';
export type { paths, components, operations } from './schema.js';
