import { spawnService, type ServiceProcess } from '@sagaflow/testkit';
import { ENGINE_ENTRY } from './entries.js';

export interface EngineProcess {
  /** ENGINE_ID, the lease owner it writes to outbox rows */
  readonly id: string;
  readonly process: ServiceProcess;
  /** http://127.0.0.1:<port> of /health, /ready, /metrics */
  readonly baseUrl: string;
}

export interface SpawnEngineOptions {
  databaseUrl: string;
  id: string;
  /** ENGINE_* overrides */
  env?: Record<string, string>;
}

const DEFAULT_ENV: Record<string, string> = {
  ENGINE_PORT: '0',
  ENGINE_HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  ENGINE_POLL_INTERVAL_MS: '100',
  ENGINE_LEASE_MS: '2000',
};

/** Starts services/engine/src/main.ts as a child process; resolves once it has logged "engine started". */
export async function spawnEngine(options: SpawnEngineOptions): Promise<EngineProcess> {
  const child = spawnService({
    name: options.id,
    entry: ENGINE_ENTRY,
    env: { ...DEFAULT_ENV, ...options.env, DATABASE_URL: options.databaseUrl, ENGINE_ID: options.id },
  });
  try {
    const line = await child.waitForLine(/"msg":"engine started"/, 30_000);
    const port = (JSON.parse(line) as { port?: number }).port;
    if (typeof port !== 'number') throw new Error(`${options.id}: "engine started" has no port: ${line}`);
    return { id: options.id, process: child, baseUrl: `http://127.0.0.1:${port}` };
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
}

/** SIGKILLs every process still running; safe on exited ones. */
export async function killAll(processes: ReadonlyArray<{ process: ServiceProcess }>): Promise<void> {
  await Promise.all(processes.map((p) => p.process.kill('SIGKILL')));
}
