import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '@sagaflow/db/testing';
import { spawnService } from '@sagaflow/testkit';

/**
 * The engine process that cannot start says why in one line on stderr and exits 1, like the API: a bad
 * DATABASE_URL is refused by the configuration (naming the variable), a port in use by the start itself — never an
 * unhandled rejection's stack trace.
 */

const ENTRY = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let occupied: Server;
let occupiedPort: number;

beforeAll(async () => {
  testDb = await createTestDatabase();
  occupied = createServer();
  await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
  occupiedPort = (occupied.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => occupied?.close(resolve));
  await testDb?.drop();
});

async function failedStart(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const child = spawnService({
    name: 'engine',
    entry: ENTRY,
    env: { ENGINE_HOST: '127.0.0.1', LOG_LEVEL: 'warn', LOG_BUFFER_BYTES: '0', ...env },
  });
  const exit = await child.exited;
  return { code: exit.code, lines: child.lines() };
}

describe('an engine that cannot start', () => {
  it('whose port is in use: one line naming it, exit 1, no stack trace', async () => {
    const { code, lines } = await failedStart({ DATABASE_URL: testDb.url, ENGINE_PORT: String(occupiedPort) });
    expect(code).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^sagaflow-engine: failed to start: .*EADDRINUSE/));
    expect(lines.filter((line) => /^\s+at /.test(line))).toEqual([]);
  });

  it('whose DATABASE_URL is not a Postgres URL: the variable named, exit 1', async () => {
    for (const url of ['notaurl', 'mysql://x/y']) {
      const { code, lines } = await failedStart({ DATABASE_URL: url, ENGINE_PORT: '0' });
      expect(code, url).toBe(1);
      expect(lines.join('\n'), url).toMatch(/DATABASE_URL/);
      expect(
        lines.filter((line) => /^\s+at /.test(line)),
        url,
      ).toEqual([]);
    }
  });
});
