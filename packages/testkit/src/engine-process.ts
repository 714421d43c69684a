import { spawnService, type ServiceProcess } from './spawn-service.js';

/** An engine child process (services/engine/src/main.ts) that has logged "engine started". */
export interface EngineProcess {
  /** ENGINE_ID, also the lease owner written to outbox rows */
  readonly id: string;
  readonly process: ServiceProcess;
  /** the port of /health, /ready, /metrics (ENGINE_PORT=0 binds an ephemeral one) */
  readonly port: number;
  readonly baseUrl: string;
}

export interface SpawnEngineOptions {
  /** absolute path of the engine's entry (services/engine/src/main.ts) */
  entry: string;
  databaseUrl: string;
  id: string;
  /** ENGINE_* variables; they override the defaults (ephemeral port, info logs written unbuffered, 100 ms poll) */
  env?: Record<string, string>;
  /** how long to wait for "engine started" (default 30 s; more on a loaded machine) */
  startupTimeoutMs?: number;
}

const DEFAULT_ENV: Record<string, string> = {
  ENGINE_PORT: '0',
  ENGINE_HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  // tests read the log as it happens (a line counted, or proved absent, right after a condition): no 100 ms buffer
  LOG_BUFFER_BYTES: '0',
  ENGINE_POLL_INTERVAL_MS: '100',
};

/** Starts an engine as a child process and resolves once it has logged "engine started" (with its port). */
export async function spawnEngine(options: SpawnEngineOptions): Promise<EngineProcess> {
  const child = spawnService({
    name: options.id,
    entry: options.entry,
    env: { ...DEFAULT_ENV, ...options.env, DATABASE_URL: options.databaseUrl, ENGINE_ID: options.id },
  });
  try {
    const line = await child.waitForLine(/"msg":"engine started"/, options.startupTimeoutMs ?? 30_000);
    const port = (JSON.parse(line) as { port?: number }).port;
    if (typeof port !== 'number') throw new Error(`${options.id}: "engine started" line has no port: ${line}`);
    return { id: options.id, process: child, port, baseUrl: `http://127.0.0.1:${port}` };
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
}

/** A child's pino lines as objects (non-JSON lines are skipped). */
export function readLogRecords(child: ServiceProcess): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const line of child.lines()) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line: not a log record
    }
  }
  return records;
}
