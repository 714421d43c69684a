import { spawnEngine as spawnEngineProcess, type EngineProcess, type ServiceProcess } from '@sagaflow/testkit';
import { ENGINE_ENTRY } from './entries.js';

export type { EngineProcess } from '@sagaflow/testkit';

export interface SpawnEngineOptions {
  databaseUrl: string;
  id: string;
  /** ENGINE_* overrides */
  env?: Record<string, string>;
  /** how long to wait for "engine started" (default 30 s) */
  startupTimeoutMs?: number;
}

/** Starts services/engine/src/main.ts as a child process with a 2 s lease (crash scenarios recover fast). */
export function spawnEngine(options: SpawnEngineOptions): Promise<EngineProcess> {
  return spawnEngineProcess({ ...options, entry: ENGINE_ENTRY, env: { ENGINE_LEASE_MS: '2000', ...options.env } });
}

/** SIGKILLs every process still running; safe on exited ones. */
export async function killAll(processes: ReadonlyArray<{ process: ServiceProcess }>): Promise<void> {
  await Promise.all(processes.map((p) => p.process.kill('SIGKILL')));
}
