import { fileURLToPath } from 'node:url';
import { spawnService, type ServiceProcess } from '@sagaflow/testkit';

/** The engine's child-process entry (src/main.ts), run through tsx by spawnService. */
export const ENGINE_ENTRY = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface EngineProcess {
  readonly id: string;
  readonly process: ServiceProcess;
  /** the port of /health, /ready, /metrics (ENGINE_PORT=0 binds an ephemeral one) */
  readonly port: number;
  readonly baseUrl: string;
}

export interface SpawnEngineOptions {
  databaseUrl: string;
  /** ENGINE_ID, also the lease owner written to outbox rows */
  id: string;
  /** extra ENGINE_* variables (they override the defaults below) */
  env?: Record<string, string>;
}

/** Defaults for crash tests: ephemeral port, info logs, a fast poll. */
const DEFAULT_ENV: Record<string, string> = {
  ENGINE_PORT: '0',
  ENGINE_HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  ENGINE_POLL_INTERVAL_MS: '100',
};

/** Starts `src/main.ts` as a child process and resolves once it has logged "engine started" (with its port). */
export async function spawnEngine(options: SpawnEngineOptions): Promise<EngineProcess> {
  const child = spawnService({
    name: options.id,
    entry: ENGINE_ENTRY,
    env: { ...DEFAULT_ENV, ...options.env, DATABASE_URL: options.databaseUrl, ENGINE_ID: options.id },
  });
  try {
    const line = await child.waitForLine(/"msg":"engine started"/, 20_000);
    const port = (JSON.parse(line) as { port?: number }).port;
    if (typeof port !== 'number') throw new Error(`${options.id}: "engine started" line has no port: ${line}`);
    return { id: options.id, process: child, port, baseUrl: `http://127.0.0.1:${port}` };
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
}

/** The engine's pino lines as objects (non-JSON lines are skipped). */
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

/** How many log records have exactly this message. */
export function countLogMessages(child: ServiceProcess, msg: string): number {
  return readLogRecords(child).filter((r) => r['msg'] === msg).length;
}

/** SIGKILLs every engine still running (afterEach); safe to call on exited ones. */
export async function killEngines(engines: readonly EngineProcess[]): Promise<void> {
  await Promise.all(engines.map((e) => e.process.kill('SIGKILL')));
}
