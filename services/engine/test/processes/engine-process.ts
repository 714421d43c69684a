import { fileURLToPath } from 'node:url';
import {
  readLogRecords,
  spawnEngine as spawnEngineProcess,
  type EngineProcess,
  type ServiceProcess,
} from '@sagaflow/testkit';

/** The engine's child-process entry (src/main.ts), run through tsx by spawnService. */
export const ENGINE_ENTRY = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export type { EngineProcess } from '@sagaflow/testkit';
export { readLogRecords };

/** Starts `src/main.ts` as a child process and resolves once it has logged "engine started" (with its port). */
export function spawnEngine(options: {
  databaseUrl: string;
  id: string;
  env?: Record<string, string>;
}): Promise<EngineProcess> {
  return spawnEngineProcess({ entry: ENGINE_ENTRY, ...options });
}

/** How many log records have exactly this message. */
export function countLogMessages(child: ServiceProcess, msg: string): number {
  return readLogRecords(child).filter((r) => r['msg'] === msg).length;
}

/** SIGKILLs every engine still running (afterEach); safe to call on exited ones. */
export async function killEngines(engines: readonly EngineProcess[]): Promise<void> {
  await Promise.all(engines.map((e) => e.process.kill('SIGKILL')));
}
