import { pino } from 'pino';
import { parseMockEnv, type MockEnv } from './env.js';
import { startMocks } from './start-mocks.js';

function loadEnvOrExit(): MockEnv {
  try {
    return parseMockEnv();
  } catch (error) {
    process.stderr.write(`mocks: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

const env = loadEnvOrExit();
const log = pino({ name: 'mocks', level: env.LOG_LEVEL });

const mocks = await startMocks({
  host: env.MOCK_HOST,
  ports: {
    payments: env.MOCK_PAYMENTS_PORT,
    inventory: env.MOCK_INVENTORY_PORT,
    notifications: env.MOCK_NOTIFICATIONS_PORT,
  },
  logger: { level: env.LOG_LEVEL },
}).catch((error: unknown) => {
  log.fatal({ err: error }, 'mock services failed to start');
  process.exit(1);
});
log.info({ urls: mocks.urls }, 'mock services listening');

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'mock services stopping');
  await mocks.close();
  log.info('mock services stopped');
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stop(signal).catch((error: unknown) => {
      log.error({ err: error }, 'mock services failed to stop');
      process.exitCode = 1;
    });
  });
}
