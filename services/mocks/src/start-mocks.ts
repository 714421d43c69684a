import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { MockLoggerOption } from './mock-service.js';
import { createInventoryService, createNotificationsService, createPaymentsService } from './services.js';

export interface StartMocksOptions {
  /** Listen host; default 127.0.0.1. */
  host?: string;
  /** Listen ports; defaults 3001, 3002, 3003. Port 0 picks an ephemeral port. */
  ports?: { payments?: number; inventory?: number; notifications?: number };
  /** Fastify logger option; default false (silent). */
  logger?: MockLoggerOption;
}

export interface RunningMocks {
  urls: { payments: string; inventory: string; notifications: string };
  close(): Promise<void>;
}

export const DEFAULT_MOCK_PORTS = { payments: 3001, inventory: 3002, notifications: 3003 } as const;

/** Starts the three demo services; if one cannot listen, the others are closed and the error is thrown. */
export async function startMocks(options: StartMocksOptions = {}): Promise<RunningMocks> {
  const host = options.host ?? '127.0.0.1';
  const ports = { ...DEFAULT_MOCK_PORTS, ...options.ports };
  const apps = {
    payments: createPaymentsService({ logger: options.logger }),
    inventory: createInventoryService({ logger: options.logger }),
    notifications: createNotificationsService({ logger: options.logger }),
  };
  const close = async (): Promise<void> => {
    await Promise.all(Object.values(apps).map((app) => app.close()));
  };
  try {
    const [payments, inventory, notifications] = await Promise.all([
      listenOn(apps.payments, host, ports.payments),
      listenOn(apps.inventory, host, ports.inventory),
      listenOn(apps.notifications, host, ports.notifications),
    ]);
    return { urls: { payments, inventory, notifications }, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function listenOn(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return `http://${urlHost}:${address.port}`;
}
