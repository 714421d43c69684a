import type { ServiceBundles } from './bundle-services.js';
import type { PostgresServer } from './postgres-server.js';

/** What every scenario run needs from the bench invocation. */
export interface ScenarioContext {
  server: PostgresServer;
  engines: number;
  /** runs started and finished before the measurement (JIT warm-up, connection pools filled) */
  warmup: number;
  /** extra variables for API and engines (--env) */
  serviceEnv: Record<string, string>;
  /** extra node flags for API and engines (--node-flag) */
  nodeFlags: string[];
  iteration: number;
  /** bench-results/<stamp>: logs, profiles, results */
  runDir: string;
  profile: boolean;
  /** --alloc-profile */
  allocProfile: boolean;
  keepDatabase: boolean;
  /** --history: completed runs of the workload filled into the fresh database before the warm-up (0 = none) */
  history: number;
  /** --sleeping: runs sleeping a year in the database during the measurement (0 = none) */
  sleeping: number;
  /** --compiled: bundled API and engine */
  bundles: ServiceBundles | undefined;
  say: (text: string) => void;
}

/** Rejects with a timeout error unless the promise settles before `deadline` (epoch ms). */
export async function beforeDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
