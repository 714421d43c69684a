import { parseEnv } from './env.js';
import { createLogger } from './logger.js';
import { startEngine } from './start-engine.js';

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv(process.env);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const logger = createLogger({ level: env.LOG_LEVEL, sensitive: env.LOG_SENSITIVE === 'true' });
const running = await startEngine({
  databaseUrl: env.DATABASE_URL,
  serviceUrls: env.serviceUrls,
  allowedHosts: env.allowedHosts,
  port: env.ENGINE_PORT,
  host: env.ENGINE_HOST,
  concurrency: env.ENGINE_CONCURRENCY,
  batchSize: env.ENGINE_BATCH_SIZE,
  leaseMs: env.ENGINE_LEASE_MS,
  pollIntervalMs: env.ENGINE_POLL_INTERVAL_MS,
  maxDeliveries: env.ENGINE_MAX_DELIVERIES,
  shutdownGraceMs: env.ENGINE_SHUTDOWN_GRACE_MS,
  poolSize: env.ENGINE_DB_POOL_SIZE,
  ...(env.ENGINE_ID ? { id: env.ENGINE_ID } : {}),
  logger,
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
