import type { Redis } from 'ioredis';
import { pingDatabase, type Db } from '@sagaflow/db';

/** `/ready`: Postgres, and Redis when configured, each answered within a short timeout. */

export type CheckStatus = 'ok' | 'error';

export interface ReadinessReport {
  ready: boolean;
  checks: { postgres: CheckStatus; redis?: CheckStatus };
}

/** Resolves 'ok' when `probe` settles in time, 'error' when it rejects or times out. */
export async function runCheck(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckStatus>((resolve) => {
    timer = setTimeout(() => resolve('error'), timeoutMs);
  });
  try {
    return await Promise.race([
      probe().then(
        (): CheckStatus => 'ok',
        (): CheckStatus => 'error',
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function createReadinessCheck(deps: {
  db: Db;
  redis?: Redis;
  timeoutMs: number;
}): () => Promise<ReadinessReport> {
  return async () => {
    const [postgres, redis] = await Promise.all([
      runCheck(() => pingDatabase(deps.db), deps.timeoutMs),
      deps.redis ? runCheck(() => deps.redis!.ping(), deps.timeoutMs) : Promise.resolve(undefined),
    ]);
    const checks = redis === undefined ? { postgres } : { postgres, redis };
    return { ready: postgres === 'ok' && (redis === undefined || redis === 'ok'), checks };
  };
}
