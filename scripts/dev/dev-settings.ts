import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DevServiceSpec {
  name: string;
  /** Package folder, relative to the repository root (also the child's cwd). */
  dir: string;
  /** Entry file, relative to dir. */
  entry: string;
  /** Where it answers GET with a 2xx once it is up. */
  healthUrl: string;
  /** Shown in the banner. */
  listens: string;
}

export interface DevSettings {
  /** undefined: start the persistent local Postgres. */
  databaseUrl: string | undefined;
  postgresPort: number;
  postgresDataDir: string;
  adminToken: string;
  adminTokenGenerated: boolean;
  /** Only those whose entry file exists. */
  services: DevServiceSpec[];
  missingServices: DevServiceSpec[];
  /** Environment every child gets on top of this process's own. */
  childEnv: Record<string, string>;
}

/** Reads the dev script's configuration from the environment (this script only; services parse their own). */
export function readDevSettings(env: NodeJS.ProcessEnv): DevSettings {
  const postgresPort = parsePort(env.SAGAFLOW_DEV_PG_PORT, 54329, 'SAGAFLOW_DEV_PG_PORT');
  const apiPort = parsePort(env.PORT, 3000, 'PORT');
  const enginePort = parsePort(env.ENGINE_PORT, 3100, 'ENGINE_PORT');
  // The mocks read the same variables (services/mocks/src/env.ts).
  const paymentsPort = parsePort(env.MOCK_PAYMENTS_PORT, 3001, 'MOCK_PAYMENTS_PORT');
  const inventoryPort = parsePort(env.MOCK_INVENTORY_PORT, 3002, 'MOCK_INVENTORY_PORT');
  const notificationsPort = parsePort(env.MOCK_NOTIFICATIONS_PORT, 3003, 'MOCK_NOTIFICATIONS_PORT');
  const adminToken = env.ADMIN_TOKEN || `dev-${randomBytes(16).toString('hex')}`;
  // what the services bind (their own defaults: loopback); the banner says exactly that
  const apiHost = env.HOST || '127.0.0.1';
  const engineHost = env.ENGINE_HOST || '127.0.0.1';
  const mockHost = env.MOCK_HOST || '127.0.0.1';
  const all: DevServiceSpec[] = [
    {
      name: 'mocks',
      dir: 'services/mocks',
      entry: 'src/main.ts',
      healthUrl: `${probeUrl(mockHost, paymentsPort)}/health`,
      listens: `payments ${listenUrl(mockHost, paymentsPort)}, inventory ${listenUrl(mockHost, inventoryPort)}, notifications ${listenUrl(mockHost, notificationsPort)}`,
    },
    {
      name: 'api',
      dir: 'services/api',
      entry: 'src/server.ts',
      healthUrl: `${probeUrl(apiHost, apiPort)}/health`,
      listens: `${listenUrl(apiHost, apiPort)}  (console ${listenUrl(apiHost, apiPort)}/ui/, docs /docs, OpenAPI /openapi.json)`,
    },
    {
      name: 'engine',
      dir: 'services/engine',
      entry: 'src/main.ts',
      healthUrl: `${probeUrl(engineHost, enginePort)}/health`,
      listens: `${listenUrl(engineHost, enginePort)}  (/health, /ready, /metrics)`,
    },
  ];
  const exists = (spec: DevServiceSpec): boolean => existsSync(`${REPO_ROOT}${spec.dir}/${spec.entry}`);
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    postgresPort,
    postgresDataDir: `${REPO_ROOT}.data/postgres`,
    adminToken,
    adminTokenGenerated: !env.ADMIN_TOKEN,
    services: all.filter(exists),
    missingServices: all.filter((spec) => !exists(spec)),
    childEnv: {
      ADMIN_TOKEN: adminToken,
      SAGAFLOW_SERVICE_PAYMENTS_URL: env.SAGAFLOW_SERVICE_PAYMENTS_URL ?? `http://127.0.0.1:${paymentsPort}`,
      SAGAFLOW_SERVICE_INVENTORY_URL: env.SAGAFLOW_SERVICE_INVENTORY_URL ?? `http://127.0.0.1:${inventoryPort}`,
      SAGAFLOW_SERVICE_NOTIFICATIONS_URL:
        env.SAGAFLOW_SERVICE_NOTIFICATIONS_URL ?? `http://127.0.0.1:${notificationsPort}`,
      NODE_ENV: 'development',
    },
  };
}

/** Where a service listens, as the banner shows it; a wildcard address is called out (reachable from the network). */
export function listenUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::';
  const shown = host.includes(':') && !wildcard ? `[${host}]` : host;
  return wildcard ? `http://${shown}:${port} (every interface)` : `http://${shown}:${port}`;
}

/** Where this script reaches a service bound to `host` (a wildcard address answers on loopback). */
function probeUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::') return `http://127.0.0.1:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

function parsePort(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a port number, got "${value}"`);
  return port;
}
