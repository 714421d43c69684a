import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * The browser tests drive the console the API serves from services/console/dist: build it once per test run (about
 * a second), so `npm test` on a fresh clone needs no `pnpm build` first. Skipped with SAGAFLOW_CONSOLE_PREBUILT=1
 * when dist is already fresh (CI builds it in `pnpm build`).
 */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  if (process.env['SAGAFLOW_CONSOLE_PREBUILT'] === '1' && existsSync(`${root}dist/index.html`)) return;
  // vitest sets NODE_ENV=test, which Vite would bake in (React's development build): build as `pnpm build` does
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({ root, mode: 'production', logLevel: 'warn', configFile: `${root}vite.config.ts` });
  } finally {
    process.env['NODE_ENV'] = nodeEnv;
  }
}
