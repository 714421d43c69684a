import { spawn } from 'node:child_process';
import { access, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalPostgres, findFreePort, findFreePorts } from '../src/index.js';
import { isProcessAlive, waitForProcessExit } from '../src/process-status.js';
import { findDeadPid, makeTempDir, query } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function newServer(options: { persistent?: boolean; dataDir?: string; port?: number } = {}) {
  const dataDir = options.dataDir ?? (await makeTempDir());
  const port = options.port ?? (await findFreePort());
  const server = createLocalPostgres({ dataDir, port, persistent: options.persistent ?? true });
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  cleanups.push(() => server.stop());
  return { server, dataDir, port };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('createLocalPostgres', () => {
  it('starts a real Postgres that answers queries on the url, and stops it', async () => {
    const { server, port } = await newServer({ persistent: false });
    expect(server.url).toBe(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
    await server.start();
    const pid = server.pid;
    expect(pid).toBeTypeOf('number');
    const [row] = await query<{ one: number }>(server.url, 'select 1 as one');
    expect(row?.one).toBe(1);
    await server.stop();
    await server.stop(); // idempotent
    expect(server.pid).toBeUndefined();
    expect(await isProcessAlive(pid as number)).toBe(false);
  });

  it('keeps the data across a restart on the same folder and port', async () => {
    const { server } = await newServer();
    await server.start();
    await query(server.url, "create table kept (v text); insert into kept values ('still here')");
    await server.stop();
    await server.start();
    const rows = await query<{ v: string }>(server.url, 'select v from kept');
    expect(rows).toEqual([{ v: 'still here' }]);
  });

  it('deletes the data folder of a non-persistent instance on stop', async () => {
    const { server, dataDir } = await newServer({ persistent: false });
    await server.start();
    expect(await exists(join(dataDir, 'PG_VERSION'))).toBe(true);
    await server.stop();
    expect(await exists(dataDir)).toBe(false);
  });

  it('recovers a folder whose postmaster.pid names a dead process', async () => {
    const { server, dataDir } = await newServer();
    await server.start();
    await server.stop();
    await writeFile(join(dataDir, 'postmaster.pid'), `${await findDeadPid()}\n${dataDir}\n`);
    await server.start();
    const [row] = await query<{ one: number }>(server.url, 'select 1 as one');
    expect(row?.one).toBe(1);
  });

  it('stops a postgres left running on the folder by a crashed parent, then starts its own', async () => {
    const { server, dataDir, port } = await newServer();
    const orphanPid = await startOrphanedServer(dataDir, port);
    cleanups.push(async () => {
      if (await isProcessAlive(orphanPid)) process.kill(orphanPid, 'SIGKILL');
    });
    await server.start();
    expect(await isProcessAlive(orphanPid)).toBe(false);
    expect(server.pid).not.toBe(orphanPid);
    const [row] = await query<{ one: number }>(server.url, 'select 1 as one');
    expect(row?.one).toBe(1);
  });

  it('rejects with the server output when the port is taken', async () => {
    const first = await newServer({ persistent: false });
    await first.server.start();
    const second = await newServer({ persistent: false, port: first.port });
    await expect(second.server.start()).rejects.toThrow(/exited before accepting connections[\s\S]*could not/);
    expect(second.server.pid).toBeUndefined();
  });

  it('reports a crash of the server through onUnexpectedExit', async () => {
    const dataDir = await makeTempDir();
    let reportExit: (signal: string | null) => void = () => {};
    const reported = new Promise<string | null>((resolve) => (reportExit = resolve));
    const server = createLocalPostgres({
      dataDir,
      port: await findFreePort(),
      persistent: false,
      onUnexpectedExit: (exit) => reportExit(exit.signal),
    });
    cleanups.push(() => server.stop());
    await server.start();
    process.kill(server.pid as number, 'SIGKILL');
    expect(await reported).toBe('SIGKILL');
    expect(server.pid).toBeUndefined();
  });
});

describe('findFreePort', () => {
  it('returns distinct usable ports', async () => {
    const ports = await Promise.all([findFreePort(), findFreePort(), findFreePort()]);
    for (const port of ports) expect(port).toBeGreaterThan(0);
  });
});

describe('findFreePorts', () => {
  it('returns the asked number of distinct ports, each free to listen on', async () => {
    const ports = await findFreePorts(12);
    expect(ports).toHaveLength(12);
    expect(new Set(ports).size).toBe(12);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** Starts Postgres from a child process, SIGKILLs that child, and returns the orphaned postmaster's pid. */
async function startOrphanedServer(dataDir: string, port: number): Promise<number> {
  const fixture = join(import.meta.dirname, 'fixtures', 'start-detached.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fixture exited early with code ${String(code)}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^ready (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  child.kill('SIGKILL');
  await waitForProcessExit(child.pid as number, 5_000);
  expect(await isProcessAlive(pid)).toBe(true);
  return pid;
}
