import { spawnService, type ServiceProcess } from '@sagaflow/testkit';
import { API_ENTRY } from './entries.js';

export interface ApiProcess {
  readonly process: ServiceProcess;
  /** http://127.0.0.1:<port> */
  readonly url: string;
}

export interface SpawnApiOptions {
  databaseUrl: string;
  adminToken: string;
  name?: string;
  env?: Record<string, string>;
  /** how long to wait for the listen line (default 30 s) */
  startupTimeoutMs?: number;
}

/** Starts services/api/src/server.ts as a child process; resolves with the address it logged on listen. */
export async function spawnApi(options: SpawnApiOptions): Promise<ApiProcess> {
  const child = spawnService({
    name: options.name ?? 'api',
    entry: API_ENTRY,
    env: {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      // the fuzz reads the API's error lines right after its last request: no 100 ms buffer
      LOG_BUFFER_BYTES: '0',
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      ADMIN_TOKEN: options.adminToken,
    },
  });
  try {
    const line = await child.waitForLine(
      /Server listening at http:\/\/127\.0\.0\.1:\d+/,
      options.startupTimeoutMs ?? 30_000,
    );
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    return { process: child, url };
  } catch (error) {
    await child.kill('SIGKILL');
    throw error;
  }
}
