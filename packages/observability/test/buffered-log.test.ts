import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_FLUSH_INTERVAL_MS } from '../src/logger.js';

const CHILD = fileURLToPath(new URL('./fixtures/log-child.ts', import.meta.url));
const children: ChildProcess[] = [];

/** The child's stdout as it arrives; `lines()` is what has arrived so far. */
function start(bufferBytes: number, end: 'stay' | 'exit' | 'throw') {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(bufferBytes), end], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const lines = () => out.split('\n').filter((l) => l !== '');
  return { child, lines };
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const logLines = (lines: string[]) => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { n: number });

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('createLogger on stdout', () => {
  it("without a buffer, writes the lines while the process lives (pino's own stdout stream)", async () => {
    const { lines } = start(0, 'stay');
    await waitUntil(() => logLines(lines()).length === 5, 10_000, 'the five lines');
    expect(logLines(lines()).map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('with a buffer, holds the lines back, then writes them within the flush interval while the process lives', async () => {
    const { child, lines } = start(4096, 'stay');
    await waitUntil(() => lines().includes('MARKER'), 10_000, 'the marker');
    await waitUntil(() => logLines(lines()).length === 5, 20 * LOG_FLUSH_INTERVAL_MS, 'the periodic flush');
    // the marker was written straight to fd 1 after the five lines were logged: they had waited in the buffer
    expect(lines()[0]).toBe('MARKER');
    expect(logLines(lines()).map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
    expect(child.exitCode).toBeNull();
  });

  it('writes what is buffered when the process exits', async () => {
    const { child, lines } = start(4096, 'exit');
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
    expect(logLines(lines()).map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it('writes what is buffered when an uncaught exception ends the process', async () => {
    const { child, lines } = start(4096, 'throw');
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(1);
    expect(logLines(lines()).map((l) => l.n)).toEqual([0, 1, 2, 3, 4]);
  });
});
