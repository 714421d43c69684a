// `pnpm bench:stack-floor` (issue #17): what a process costs before SagaFlow's own code runs. Each row is a fresh
// `node`, started as the image starts the services (NODE_ENV=production, MALLOC_ARENA_MAX=2,
// --max-semi-space-size=4), that imports the named packages from the service's own node_modules, runs two full
// collections and reads its resident set (VmRSS). Nothing is listened on, connected or allocated beyond the imports.
// The packages are the stack the project decided on (the guide: Fastify, tRPC + trpc-to-openapi + zod, Kysely + pg,
// ioredis, pino, prom-client, undici) as each service loads it at start; the target is ≤ 80 MB per process
// and ≤ 160 MB for the two together, at 20 runs/s. The rows of the services' own modules need `pnpm build` first.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Row {
  label: string;
  /** the service whose node_modules the imports resolve from */
  cwd: string;
  packages: string[];
}

const API_STACK = ['fastify', '@trpc/server', 'trpc-to-openapi', 'zod', 'kysely', 'pg', 'pino', 'prom-client'];
const ENGINE_STACK = ['fastify', 'zod', 'kysely', 'pg', 'pino', 'prom-client', 'undici'];

const ROWS: Row[] = [
  { label: 'bare node', cwd: 'services/api', packages: [] },
  { label: 'API: Fastify alone', cwd: 'services/api', packages: ['fastify'] },
  { label: 'API: Fastify + tRPC + trpc-to-openapi + zod', cwd: 'services/api', packages: API_STACK.slice(0, 4) },
  { label: `API: the decided stack (${API_STACK.join(', ')})`, cwd: 'services/api', packages: API_STACK },
  { label: 'API: the same + ioredis (REDIS_URL set)', cwd: 'services/api', packages: [...API_STACK, 'ioredis'] },
  {
    label: 'API: its own start modules (`dist/start-server.js` imported, nothing started)',
    cwd: 'services/api',
    packages: ['./dist/start-server.js'],
  },
  { label: `engine: the decided stack (${ENGINE_STACK.join(', ')})`, cwd: 'services/engine', packages: ENGINE_STACK },
  {
    label: 'engine: its own start modules (`dist/start-engine.js` imported, nothing started)',
    cwd: 'services/engine',
    packages: ['./dist/start-engine.js'],
  },
];

const PROBE = `
const base = 'file://' + process.cwd() + '/';
for (const name of JSON.parse(process.env.STACK_FLOOR_PACKAGES))
  await import(name.startsWith('./') ? new URL(name, base).href : name);
globalThis.gc();
await new Promise((resolve) => setTimeout(resolve, 200));
globalThis.gc();
const { readFileSync } = await import('node:fs');
const kb = Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const { heapUsed, heapTotal } = process.memoryUsage();
process.stdout.write(JSON.stringify({ rssMb: kb / 1024, heapUsedMb: heapUsed / 1048576, heapTotalMb: heapTotal / 1048576 }));
`;

interface Sample {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
}

function probe(row: Row): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--max-semi-space-size=4', '--expose-gc', '--input-type=module', '--eval', PROBE],
      {
        cwd: `${root}${row.cwd}`,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          MALLOC_ARENA_MAX: '2',
          STACK_FLOOR_PACKAGES: JSON.stringify(row.packages),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(JSON.parse(out) as Sample);
      else reject(new Error(`${row.label}: node exited ${code}: ${err.trim()}`));
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const samples = Number(process.argv[2] ?? 3);
const fmt = (mb: number): string => mb.toFixed(1);
const lines = [
  `| process (fresh node, imports only; median of ${samples}) | RSS MB | heap used / committed MB | ≤ 80 MB |`,
  '| --- | ---: | ---: | --- |',
];
const floors: Record<string, number> = {};
for (const row of ROWS) {
  const missing = row.packages.find((name) => name.startsWith('./') && !existsSync(`${root}${row.cwd}/${name}`));
  if (missing) {
    lines.push(`| ${row.label} | – (no ${row.cwd}/${missing.slice(2)}: run \`pnpm build\` first) | – | – |`);
    continue;
  }
  const taken: Sample[] = [];
  for (let i = 0; i < samples; i++) taken.push(await probe(row));
  const rss = median(taken.map((s) => s.rssMb));
  floors[row.label] = rss;
  const heap = `${fmt(median(taken.map((s) => s.heapUsedMb)))} / ${fmt(median(taken.map((s) => s.heapTotalMb)))}`;
  lines.push(`| ${row.label} | ${fmt(rss)} | ${heap} | ${rss <= 80 ? 'yes' : 'no'} |`);
}
const sum = (a: string, b: string): number | undefined =>
  floors[a] !== undefined && floors[b] !== undefined ? floors[a] + floors[b] : undefined;
const stack = sum(ROWS[3]!.label, ROWS[6]!.label)!;
lines.push(
  '',
  `API + engine, the decided stack's imports alone: ${fmt(stack)} MB, which leaves ${fmt(160 - stack)} MB of the ` +
    "target's 160 (at 20 runs/s) for SagaFlow's own code, its live data, connections and the load.",
);
const own = sum(ROWS[5]!.label, ROWS[7]!.label);
if (own !== undefined) lines.push(`API + engine with their own start modules, nothing started: ${fmt(own)} MB.`);
process.stdout.write(`${lines.join('\n')}\n`);
