import { ConfigError, loadConfig } from './env.js';
import { startServer } from './start-server.js';

/** Entry point: parse config, start, stop gracefully on SIGTERM/SIGINT. */

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sagaflow-api: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const api = await startServer(config);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    api.app.log.info({ signal }, 'shutting down');
    api.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        api.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`sagaflow-api: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
