import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pickFirst, readPath } from './body-fields.js';
import { createMockService, type MockLoggerOption } from './mock-service.js';
import type { OperationHandler } from './operation-route.js';

/** Options shared by the three demo services. */
export interface DemoServiceOptions {
  logger?: MockLoggerOption;
}

/** A fresh id such as `ch_4f1c…`. */
export function createId(prefix: string): string {
  return `${prefix}_${randomUUID()}`;
}

/** A field from a template body (`body.<field>`), else from the envelope's run input (`body.input.<field>`). */
function readField(body: unknown, field: string): unknown {
  return pickFirst(readPath(body, field), readPath(body, 'input', field));
}

/** An earlier step's output field from the envelope, else the same field sent directly in a template body. */
function readStepOutput(body: unknown, stepId: string, field: string): unknown {
  return pickFirst(readPath(body, 'steps', stepId, 'output', field), readPath(body, field));
}

export const paymentsRoutes: Record<string, OperationHandler> = {
  '/charges': ({ body }) => ({ chargeId: createId('ch'), amount: readField(body, 'amount'), status: 'charged' }),
  '/refunds': ({ body }) => ({
    refundId: createId('rf'),
    chargeId: readStepOutput(body, 'charge-payment', 'chargeId'),
    status: 'refunded',
  }),
  '/refunds/validate': () => ({ valid: true }),
  '/invoices': () => ({ invoiceId: createId('inv') }),
  '/invoices/void': ({ body }) => ({
    invoiceId: readStepOutput(body, 'create-invoice', 'invoiceId'),
    status: 'void',
  }),
  '/invoices/fiscal': () => ({ fiscalDocId: createId('fd') }),
  '/invoices/archive': () => ({ archived: true }),
};

export const inventoryRoutes: Record<string, OperationHandler> = {
  '/reservations': ({ body }) => ({ reservationId: createId('rsv'), sku: readField(body, 'sku'), status: 'reserved' }),
  '/reservations/release': ({ body }) => ({
    reservationId: readStepOutput(body, 'reserve-inventory', 'reservationId'),
    status: 'released',
  }),
};

export const notificationsRoutes: Record<string, OperationHandler> = {
  '/emails': () => ({ messageId: createId('msg'), status: 'sent' }),
};

export function createPaymentsService(options: DemoServiceOptions = {}): FastifyInstance {
  return createMockService({ name: 'payments', routes: paymentsRoutes, logger: options.logger });
}

export function createInventoryService(options: DemoServiceOptions = {}): FastifyInstance {
  return createMockService({ name: 'inventory', routes: inventoryRoutes, logger: options.logger });
}

export function createNotificationsService(options: DemoServiceOptions = {}): FastifyInstance {
  return createMockService({ name: 'notifications', routes: notificationsRoutes, logger: options.logger });
}
