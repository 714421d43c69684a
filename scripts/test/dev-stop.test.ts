import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findFreePorts } from '@sagaflow/local-postgres';
import { waitFor, waitForHttp } from '@sagaflow/testkit';
import { createTestDatabase, type TestDatabase } from '../../packages/db/src/testing/index.js';

// A requested stop of the dev stack exits 0 all the way up: a Ctrl-C typed in the terminal running `pnpm dev`
// (pnpm must not print `[ELIFECYCLE] Command failed.`), and a SIGINT sent to the dev runner. Nothing is left.

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const hasScript = spawnSync('script', ['--version']).status === 0;

interface Stack {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  apiUrl: string;
  engineUrl: string;
}

const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((database) => database.drop()));
});

/** Starts the stack with its own database and ports; `command` runs in REPO_ROOT. */
async function startStack(command: string, args: string[]): Promise<Stack> {
  const database = await createTestDatabase();
  databases.push(database);
  const [api, engine, payments, inventory, notifications] = await findFreePorts(5);
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      ADMIN_TOKEN: 'dev-stop-test-token-0123456789',
      PORT: String(api),
      ENGINE_PORT: String(engine),
      MOCK_PAYMENTS_PORT: String(payments),
      MOCK_INVENTORY_PORT: String(inventory),
      MOCK_NOTIFICATIONS_PORT: String(notifications),
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stack = { child, output: () => output, exited, apiUrl: `http://127.0.0.1:${api}`, engineUrl: '' };
  stack.engineUrl = `http://127.0.0.1:${engine}`;
  try {
    await Promise.all([
      waitForHttp(`${stack.apiUrl}/ready`, READY_TIMEOUT_MS),
      waitForHttp(`${stack.engineUrl}/ready`, READY_TIMEOUT_MS),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`the stack did not become ready; its output:\n${output}`, { cause: error });
  }
  return stack;
}

/** Every process below pid (children, grandchildren, ...), from /proc. */
function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function expectCleanStop(stack: Stack, processes: number[]): Promise<void> {
  const exit = await Promise.race([
    stack.exited,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no exit within ${STOP_TIMEOUT_MS} ms:\n${stack.output()}`)), STOP_TIMEOUT_MS),
    ),
  ]);
  expect(exit, stack.output()).toEqual({ code: 0, signal: null });
  expect(stack.output()).not.toContain('ELIFECYCLE');
  // The runner waits for every child before it exits; allow the kernel a moment to reap them.
  await waitFor(() => processes.every((pid) => !isAlive(pid)), {
    timeoutMs: 5_000,
    description: `no leftover processes of ${processes.join(', ')}`,
  });
  await expect(fetch(`${stack.apiUrl}/health`)).rejects.toThrow();
  await expect(fetch(`${stack.engineUrl}/health`)).rejects.toThrow();
}

describe('stopping the dev stack', () => {
  it.skipIf(!hasScript)(
    'a Ctrl-C typed in the terminal running `pnpm dev` stops everything and pnpm exits 0',
    async () => {
      // `script` runs pnpm in a pseudo-terminal; the byte 0x03 written to it is a Ctrl-C typed there.
      const stack = await startStack('script', ['-qfec', 'pnpm run dev', '/dev/null']);
      const processes = descendantsOf(stack.child.pid!);
      expect(processes.length).toBeGreaterThanOrEqual(5); // pnpm, the runner, mocks, api, engine (and shells)
      stack.child.stdin!.write('\u0003');
      await expectCleanStop(stack, processes);
      expect(stack.output()).toContain('Ctrl-C: stopping the stack');
    },
    READY_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000,
  );

  it(
    'SIGINT to the dev runner stops everything and it exits 0',
    async () => {
      const stack = await startStack(process.execPath, [
        '--conditions=development',
        '--import',
        'tsx',
        'scripts/dev.ts',
      ]);
      const processes = [stack.child.pid!, ...descendantsOf(stack.child.pid!)];
      expect(processes.length).toBeGreaterThanOrEqual(4); // the runner, mocks, api, engine
      stack.child.kill('SIGINT');
      await expectCleanStop(stack, processes);
      expect(stack.output()).toContain('received SIGINT, stopping the stack');
    },
    READY_TIMEOUT_MS + STOP_TIMEOUT_MS + 30_000,
  );
});
