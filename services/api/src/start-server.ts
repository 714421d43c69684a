import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { createDb, createPool } from '@sagaflow/db';
import { buildApp } from './app.js';
import type { ApiConfig } from './env.js';

export interface RunningApi {
  app: FastifyInstance;
  /** http://host:port actually bound (port 0 resolves to the ephemeral port). */
  url: string;
  /** Stops accepting requests, drains in-flight ones, closes Redis and the pool. */
  stop(): Promise<void>;
}

/** Starts the API: pool, Redis when configured, the app, listen. Used by server.ts and end-to-end tests. */
export async function startServer(config: ApiConfig): Promise<RunningApi> {
  const pool = createPool(config.databaseUrl, { applicationName: 'sagaflow-api', connectionTimeoutMillis: 2_000 });
  const db = createDb(pool);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        maxRetriesPerRequest: 2,
        connectTimeout: 2000,
        lazyConnect: false,
        // while Redis is unreachable a command fails at once instead of waiting in a queue for reconnections (12–15 s
        // per admin request before): the rate limits skip it and /ready reports the outage
        enableOfflineQueue: false,
      })
    : undefined;
  const generatedToken = config.adminToken ? undefined : randomBytes(24).toString('base64url');
  const app = buildApp({ db, redis, config: { ...config, adminToken: config.adminToken ?? generatedToken } });
  redis?.on('error', (error: Error) => app.log.warn({ err: error }, 'redis error'));
  if (generatedToken) {
    // for the person at the terminal, never into the log stream (log shippers keep what they see)
    process.stderr.write(
      `sagaflow-api: ADMIN_TOKEN not set; development admin token for this process: ${generatedToken}\n`,
    );
    app.log.warn('ADMIN_TOKEN not set: generated a development admin token (printed on stderr, not logged)');
  }
  const stop = async (): Promise<void> => {
    await app.close();
    await Promise.allSettled([redis?.quit(), db.destroy()]);
  };
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await stop();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return { app, url: `http://${host}:${port}`, stop };
}
