export type { JsonRecord } from './body-fields.js';
export { createMockService, type MockLoggerOption, type MockServiceOptions } from './mock-service.js';
export type { MockEffect, MockRequestEntry, OperationKind } from './mock-state.js';
export type { OperationHandler, OperationRequest } from './operation-route.js';
export {
  createInventoryService,
  createNotificationsService,
  createPaymentsService,
  inventoryRoutes,
  notificationsRoutes,
  paymentsRoutes,
  type DemoServiceOptions,
} from './services.js';
export { decideInjection, parseSimulation, type InjectionOutcome, type Simulation } from './simulation.js';
export { DEFAULT_MOCK_PORTS, startMocks, type RunningMocks, type StartMocksOptions } from './start-mocks.js';
