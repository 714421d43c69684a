import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findFreePort, findFreePorts } from '@sagaflow/local-postgres';
import { waitForHttp } from '@sagaflow/testkit';
import type { ServiceBundles } from './bundle-services.js';
import { startBenchChild, type BenchChild } from './child-process.js';
import { readMachineCpu, readPostgresCpuSeconds } from './proc-status.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const API_ENTRY = join(REPO_ROOT, 'services/api/src/server.ts');
const ENGINE_ENTRY = join(REPO_ROOT, 'services/engine/src/main.ts');
export const DOWNSTREAM_ENTRY = fileURLToPath(new URL('./downstream.ts', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
/** Variables of the bench's own environment the services must not inherit (each service gets exactly what is set below). */
const INHERIT_BLOCKLIST =
  /^(DATABASE_URL|REDIS_URL|ADMIN_TOKEN|PORT|HOST|NODE_ENV|NODE_OPTIONS|LOG_.*|ENGINE_.*|SAGAFLOW_.*|OTEL_.*|BENCH_.*)$/;

export interface StackOptions {
  databaseUrl: string;
  /** the Postgres server's main process, for its CPU time */
  postmasterPid: number;
  engines: number;
  /** false: API only (the start-rate scenario) */
  withEngines: boolean;
  rejectPath?: string;
  rejectPermille?: number;
  /** the downstream answers this many ms late (sse-delay) */
  downstreamDelayMs?: number;
  /** extra variables for API and engines (--env), e.g. ENGINE_CONCURRENCY=64 or LOG_LEVEL=warn */
  serviceEnv: Record<string, string>;
  /** extra node flags for API and engines, before the entry */
  nodeFlags?: string[];
  logDir: string;
  /** write a V8 CPU profile of each service into this folder (node --cpu-prof) */
  profileDir?: string;
  /** load alloc-sampler.mjs into API and engines; each writes <this folder>/<name>/<pid>.heapprofile when it exits */
  allocProfileDir?: string;
  /** run these bundles with plain node instead of the .ts sources through tsx (--compiled) */
  bundles?: ServiceBundles;
}

export interface CpuSample {
  api: number;
  engines: number[];
  downstream: number;
  postgres: number;
  bench: number;
  /** every process on the machine: busy CPU seconds, and elapsed CPU seconds of all cores */
  machineBusy: number;
  machineTotal: number;
}

export interface ServiceStack {
  apiUrl: string;
  downstreamUrl: string;
  adminToken: string;
  api: BenchChild;
  engines: BenchChild[];
  downstream: BenchChild | undefined;
  cpu(): Promise<CpuSample>;
  /** SIGTERM to everything, in parallel; resolves when all have exited */
  stop(): Promise<void>;
}

/** Every stack started and not yet stopped, so an interrupted bench can stop its children before it exits. */
const runningStacks = new Set<ServiceStack>();

/** Stops every running stack (SIGTERM, then SIGKILL after the grace period); used on SIGINT/SIGTERM. */
export async function stopAllServiceStacks(): Promise<void> {
  await Promise.all([...runningStacks].map((stack) => stack.stop()));
}

/** This process's environment minus what must not leak into a child (INHERIT_BLOCKLIST). */
export function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !INHERIT_BLOCKLIST.test(key)) env[key] = value;
  return env;
}

/**
 * The bench downstream alone, with its answers' defaults, for the comparisons of `bench:versus` (graphile-worker, the
 * durable floor); resolves once it answers /health.
 */
export async function startDownstream(logDir: string): Promise<{ child: BenchChild; url: string }> {
  const port = await findFreePort();
  const child = startBenchChild({
    name: 'downstream',
    entry: DOWNSTREAM_ENTRY,
    logFile: join(logDir, 'downstream.log'),
    env: { ...inheritedEnv(), BENCH_DOWNSTREAM_PORT: String(port) },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/health`, 30_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { child, url };
}

const ALLOC_SAMPLER = fileURLToPath(new URL('../alloc-sampler.mjs', import.meta.url));

function profileFlags(options: StackOptions, name: string): string[] {
  return [
    ...(options.nodeFlags ?? []),
    ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, name)}`] : []),
    ...(options.allocProfileDir ? ['--import', pathToFileURL(ALLOC_SAMPLER).href] : []),
  ];
}

function profileEnv(options: StackOptions, name: string): Record<string, string> {
  return options.allocProfileDir ? { BENCH_ALLOC_PROFILE_DIR: join(options.allocProfileDir, name) } : {};
}

/** Downstream (when engines run), API and engines as child processes, each answering its health check. */
export async function startServiceStack(options: StackOptions): Promise<ServiceStack> {
  await mkdir(options.logDir, { recursive: true });
  const base = inheritedEnv();
  // compiled, the services run as the image runs them (Dockerfile): fewer glibc malloc arenas, so the many threads of a
  // Node process do not each keep their own heap of freed buffers; a young generation of at most 3 × 4 MB
  const runtime: Record<string, string> = options.bundles
    ? { MALLOC_ARENA_MAX: '2', NODE_OPTIONS: '--max-semi-space-size=4' }
    : {};
  const adminToken = randomBytes(24).toString('hex');
  const started: BenchChild[] = [];
  const stopAll = async (): Promise<void> => void (await Promise.all(started.map((child) => child.stop())));
  try {
    let downstream: BenchChild | undefined;
    // Every port in one call, so no two children are given the same one (see findFreePorts).
    const [downstreamPort, apiPort, ...enginePorts] = await findFreePorts(
      2 + (options.withEngines ? options.engines : 0),
    );
    if (options.withEngines) {
      downstream = startBenchChild({
        name: 'downstream',
        entry: DOWNSTREAM_ENTRY,
        logFile: join(options.logDir, 'downstream.log'),
        env: {
          ...base,
          BENCH_DOWNSTREAM_PORT: String(downstreamPort),
          BENCH_REJECT_PATH: options.rejectPath ?? '',
          BENCH_REJECT_PERMILLE: String(options.rejectPermille ?? 0),
          BENCH_DOWNSTREAM_DELAY_MS: String(options.downstreamDelayMs ?? 0),
        },
      });
      started.push(downstream);
    }
    const api = startBenchChild({
      name: 'api',
      entry: options.bundles?.api ?? API_ENTRY,
      logFile: join(options.logDir, 'api.log'),
      nodeFlags: profileFlags(options, 'api'),
      env: {
        ...base,
        ...runtime,
        ...profileEnv(options, 'api'),
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(apiPort),
        DATABASE_URL: options.databaseUrl,
        ADMIN_TOKEN: adminToken,
        ...options.serviceEnv,
      },
    });
    started.push(api);
    const engines: BenchChild[] = [];
    for (const [i, port] of enginePorts.entries()) {
      const engine = startBenchChild({
        name: `engine-${i + 1}`,
        entry: options.bundles?.engine ?? ENGINE_ENTRY,
        logFile: join(options.logDir, `engine-${i + 1}.log`),
        nodeFlags: profileFlags(options, `engine-${i + 1}`),
        env: {
          ...base,
          ...runtime,
          ...profileEnv(options, `engine-${i + 1}`),
          ENGINE_HOST: '127.0.0.1',
          ENGINE_PORT: String(port),
          ENGINE_ID: `bench-engine-${i + 1}`,
          DATABASE_URL: options.databaseUrl,
          ...options.serviceEnv,
        },
      });
      engines.push(engine);
      started.push(engine);
    }
    const urls = [`http://127.0.0.1:${apiPort}/ready`, ...enginePorts.map((port) => `http://127.0.0.1:${port}/ready`)];
    if (downstream) urls.push(`http://127.0.0.1:${downstreamPort}/health`);
    await Promise.all(urls.map((url) => waitForHttp(url, STARTUP_TIMEOUT_MS)));
    const stack: ServiceStack = {
      apiUrl: `http://127.0.0.1:${apiPort}`,
      downstreamUrl: `http://127.0.0.1:${downstreamPort}`,
      adminToken,
      api,
      engines,
      downstream,
      cpu: async () => ({
        api: await api.cpuSeconds(),
        engines: await Promise.all(engines.map((engine) => engine.cpuSeconds())),
        downstream: downstream ? await downstream.cpuSeconds() : 0,
        postgres: await readPostgresCpuSeconds(options.postmasterPid),
        bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
        ...(await readMachineCpu().then((m) => ({ machineBusy: m.busy, machineTotal: m.total }))),
      }),
      stop: async () => {
        runningStacks.delete(stack);
        await stopAll();
      },
    };
    runningStacks.add(stack);
    return stack;
  } catch (error) {
    await stopAll();
    throw new Error(
      `the services did not start (logs in ${options.logDir}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
