import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/** The parts of autocannon's --json result the bench reads. */
export interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  latency: { p50: number; p90: number; p97_5: number; p99: number; max: number; average: number };
  requests: { average: number; total: number };
}

const AUTOCANNON_CLI = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

/** Runs the autocannon CLI (root devDependency) as its own process against one POST endpoint; resolves with its JSON result. */
export function runAutocannon(options: {
  url: string;
  body: unknown;
  connections: number;
  durationSeconds: number;
  timeoutMs: number;
}): Promise<AutocannonResult> {
  const args = [
    AUTOCANNON_CLI,
    '-c',
    String(options.connections),
    '-d',
    String(options.durationSeconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    JSON.stringify(options.body),
    '--no-progress',
    '-j',
    options.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString('utf8').trim();
      try {
        if (code !== 0) throw new Error(`exit code ${String(code)}`);
        resolve(JSON.parse(text.slice(text.indexOf('{'))) as AutocannonResult);
      } catch (error) {
        reject(
          new Error(
            `autocannon failed (${error instanceof Error ? error.message : String(error)}): ${Buffer.concat(err).toString('utf8').slice(-500)}`,
          ),
        );
      }
    });
  });
}
