import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnService, waitFor } from '../src/index.js';

const entry = join(import.meta.dirname, 'fixtures', 'echo-service.ts');

describe('spawnService', () => {
  it('runs a TypeScript entry with the given env and captures stdout and stderr lines', async () => {
    const service = spawnService({ name: 'echo', entry, env: { GREETING_NAME: 'testkit' } });
    expect(service.pid).toBeGreaterThan(0);
    expect(await service.waitForLine(/^ready (\d+)$/)).toBe('ready 42');
    expect(service.lines()).toContain('hello from testkit');
    // stdout and stderr are separate pipes: their relative order is not guaranteed.
    await service.waitForLine(/^warming up on stderr$/);
    const exit = await service.kill();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(service.lines()).toContain('stopping');
  });

  it('reports a kill -9 as the signal', async () => {
    const service = spawnService({ name: 'echo', entry });
    await service.waitForLine(/^ready/);
    await service.kill('SIGKILL');
    expect(await service.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('rejects waitForLine when the process exits first, quoting its output', async () => {
    const service = spawnService({ name: 'broken', entry: join(import.meta.dirname, 'fixtures', 'missing.ts') });
    await expect(service.waitForLine(/^ready/)).rejects.toThrow(/broken: exited \(code 1[\s\S]*missing\.ts/);
  });

  it('rejects waitForLine on timeout', async () => {
    const service = spawnService({ name: 'echo', entry });
    await expect(service.waitForLine(/never printed/, 300)).rejects.toThrow(/echo: timed out after 300 ms/);
    await service.kill();
  });
});

describe('a service whose test process dies', () => {
  it('gets SIGTERM instead of living on as an orphan', async () => {
    // A middle process spawns the echo service, prints its pid and is then SIGKILLed.
    const middle = spawnService({ name: 'middle', entry: join(import.meta.dirname, 'fixtures', 'spawn-echo.ts') });
    const pid = Number((await middle.waitForLine(/^echo pid \d+$/)).split(' ')[2]);
    expect(isAlive(pid)).toBe(true);
    await middle.kill('SIGKILL');
    await waitFor(() => !isAlive(pid), { timeoutMs: 10_000, description: `echo service ${pid} to exit` });
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
