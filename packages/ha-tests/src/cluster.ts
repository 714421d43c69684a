import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from '@sagaflow/local-postgres';
import pg from 'pg';
import { waitFor } from '@sagaflow/testkit';
import { PG_BIN_DIR } from './install.js';
import { startWatchdog } from './watchdog.js';

/** One Patroni member: its Postgres port, its REST port, its data directory, and the Patroni process. */
export interface PatroniNode {
  readonly name: string;
  readonly pgPort: number;
  readonly restPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  patroni: ChildProcess | undefined;
}

/** A member as Patroni's GET /cluster lists it. */
export interface ClusterMember {
  name: string;
  role: 'leader' | 'sync_standby' | 'replica' | 'standby_leader';
  state: string;
  timeline?: number;
  lag?: number | string;
}

export interface HaCluster {
  /** postgres://… through HAProxy's read-write port (always the current primary) */
  readonly url: string;
  readonly nodes: readonly PatroniNode[];
  readonly dir: string;
  /** the members as any reachable Patroni REST API reports them */
  members(): Promise<ClusterMember[]>;
  /** the node holding the leader key (waits until there is one) */
  leader(timeoutMs?: number): Promise<PatroniNode>;
  /** at least `expectedMembers` running (or streaming) members, among them a running leader and a sync standby */
  waitHealthy(timeoutMs: number, expectedMembers: number): Promise<ClusterMember[]>;
  /** kill -9 the node's postmaster (its pid from postmaster.pid); returns the pid */
  killPostgres(node: PatroniNode): number;
  /** kill -9 the node's Patroni */
  killPatroni(node: PatroniNode): void;
  /** last lines of every log (Patroni, etcd, HAProxy), for a failure message */
  logTails(lines?: number): string;
  /** stops everything by PID (SIGKILL Patroni/etcd/HAProxy, SIGQUIT then SIGKILL the postmasters), removes the dir */
  close(): Promise<void>;
}

const SCOPE = 'sagaflow-ha';
const NODE_NAMES = ['node1', 'node2', 'node3'];

function postgresIds(): { uid: number; gid: number } {
  // Postgres refuses to run as root: Patroni (and so initdb/postgres) run as the postgres user when we are root
  if (process.getuid?.() !== 0) return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Patroni's configuration of one member (YAML is a superset of JSON, so this is written as JSON). */
function patroniConfig(node: PatroniNode, etcdPort: number, dir: string, namespace: string): Record<string, unknown> {
  return {
    scope: SCOPE,
    namespace,
    name: node.name,
    log: { level: 'INFO' },
    restapi: { listen: `127.0.0.1:${node.restPort}`, connect_address: `127.0.0.1:${node.restPort}` },
    etcd3: { hosts: [`127.0.0.1:${etcdPort}`] },
    bootstrap: {
      dcs: {
        ttl: 10,
        loop_wait: 1,
        retry_timeout: 5,
        maximum_lag_on_failover: 1_048_576,
        // a commit is acknowledged only once a synchronous standby has it; only that standby can be promoted
        synchronous_mode: true,
        // a crashed primary is not restarted in place first: fail over at once (safe with synchronous_mode)
        primary_start_timeout: 0,
        postgresql: {
          use_pg_rewind: true,
          use_slots: true,
          parameters: {
            wal_level: 'replica',
            hot_standby: 'on',
            wal_log_hints: 'on',
            max_wal_senders: 10,
            max_replication_slots: 10,
            max_connections: 100,
            synchronous_commit: 'on',
            shared_buffers: '64MB',
            fsync: 'on',
          },
        },
      },
      initdb: [{ encoding: 'UTF8' }, { 'auth-local': 'trust' }, { 'auth-host': 'trust' }],
    },
    postgresql: {
      listen: `127.0.0.1:${node.pgPort}`,
      connect_address: `127.0.0.1:${node.pgPort}`,
      data_dir: node.dataDir,
      bin_dir: PG_BIN_DIR,
      pgpass: join(dir, `pgpass-${node.name}`),
      authentication: {
        superuser: { username: 'postgres', password: 'postgres' },
        replication: { username: 'replicator', password: 'replicator' },
        rewind: { username: 'postgres', password: 'postgres' },
      },
      pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust'],
      parameters: { unix_socket_directories: dir },
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
}

function haproxyConfig(port: number, nodes: readonly PatroniNode[]): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // LISTEN connections sit idle for long stretches
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout check 1s',
    'listen primary',
    `  bind 127.0.0.1:${port}`,
    '  option httpchk OPTIONS /primary',
    '  http-check expect status 200',
    // a node that stops being the primary is out within ~1 s, and its client connections are cut at once
    '  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...nodes.map((n) => `  server ${n.name} 127.0.0.1:${n.pgPort} maxconn 500 check port ${n.restPort}`),
    '',
  ].join('\n');
}

function spawnLogged(
  command: string,
  args: string[],
  logFile: string,
  pidFile: string,
  ids?: { uid: number; gid: number },
): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, {
    stdio: ['ignore', fd, fd],
    ...(ids ? { uid: ids.uid, gid: ids.gid } : {}),
    env: { ...process.env, HOME: join(logFile, '..') },
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  child.on('error', () => {});
  writeFileSync(pidFile, String(child.pid));
  return child;
}

function tailOf(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  return (await response.json()) as T;
}

/** True when a fresh connection to `url` lands on a primary (not in recovery). */
async function reachesPrimary(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ replica: boolean }>('select pg_is_in_recovery() as replica');
    return rows[0]?.replica === false;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * HAProxy starts with every server up until its checks say otherwise (fall 2 × 500 ms): wait until ten fresh
 * connections in a row, spread over more than 2 s, all reached the primary.
 */
async function waitForPrimaryBehindHaproxy(url: string): Promise<void> {
  let streak = 0;
  await waitFor(
    async () => {
      streak = (await reachesPrimary(url)) ? streak + 1 : 0;
      return streak >= 10;
    },
    { timeoutMs: 30_000, intervalMs: 250, description: 'HAProxy routing to the primary' },
  );
}

/**
 * Brings up, in a temp dir on loopback and free ports: a single-node etcd, three Patroni members (synchronous mode)
 * and HAProxy routing its port to whichever member answers 200 on Patroni's /primary. A watchdog kills all of it by PID
 * if this process dies without calling close().
 */
export async function startHaCluster(): Promise<HaCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-ha-'));
  const ids = postgresIds();
  chownSync(dir, ids.uid, ids.gid);
  const pidDir = join(dir, 'pids');
  mkdirSync(pidDir);
  const watchdog = startWatchdog(dir);
  const children: ChildProcess[] = [];

  // One call for every port, so no two of them are the same (see findFreePorts).
  const ports = await findFreePorts(3 + 2 * NODE_NAMES.length);
  const port = (index: number): number => ports[index]!;
  const [etcdClient, etcdPeer, haproxyPort] = [port(0), port(1), port(2)];
  const nodes: PatroniNode[] = [];
  for (const [index, name] of NODE_NAMES.entries()) {
    const nodeDir = join(dir, name);
    mkdirSync(nodeDir, { mode: 0o700 });
    chownSync(nodeDir, ids.uid, ids.gid);
    nodes.push({
      name,
      pgPort: port(3 + 2 * index),
      restPort: port(4 + 2 * index),
      dataDir: join(nodeDir, 'data'),
      logFile: join(nodeDir, 'patroni.log'),
      patroni: undefined,
    });
  }
  const etcdLog = join(dir, 'etcd.log');
  const haproxyLog = join(dir, 'haproxy.log');

  const cluster: HaCluster = {
    url: `postgres://postgres:postgres@127.0.0.1:${haproxyPort}/postgres`,
    nodes,
    dir,
    members: async () => {
      let lastError: unknown;
      for (const node of nodes) {
        try {
          const body = await fetchJson<{ members: ClusterMember[] }>(`http://127.0.0.1:${node.restPort}/cluster`);
          return body.members;
        } catch (error) {
          lastError = error;
        }
      }
      throw lastError instanceof Error ? lastError : new Error('no Patroni REST API answered');
    },
    leader: async (timeoutMs = 60_000) =>
      waitFor(
        async () => {
          const name = (await cluster.members()).find((m) => m.role === 'leader' && m.state === 'running')?.name;
          return name === undefined ? undefined : nodes.find((n) => n.name === name);
        },
        { timeoutMs, intervalMs: 200, description: 'a running Patroni leader' },
      ),
    waitHealthy: (timeoutMs, expectedMembers) =>
      waitFor(
        async () => {
          const members = await cluster.members();
          const running = members.filter((m) => m.state === 'running' || m.state === 'streaming');
          const ok =
            members.length >= expectedMembers &&
            running.length >= expectedMembers &&
            members.some((m) => m.role === 'leader' && m.state === 'running') &&
            members.some((m) => m.role === 'sync_standby');
          return ok ? members : undefined;
        },
        { timeoutMs, intervalMs: 250, description: `${expectedMembers} healthy members with a sync standby` },
      ),
    killPostgres: (node) => {
      const pid = readPostmasterPid(node.dataDir);
      if (pid === undefined) throw new Error(`${node.name}: no postmaster.pid`);
      process.kill(pid, 'SIGKILL');
      return pid;
    },
    killPatroni: (node) => {
      node.patroni?.kill('SIGKILL');
      node.patroni = undefined;
    },
    logTails: (lines = 15) =>
      [
        ...nodes.map((n) => `--- ${n.name} (patroni)\n${tailOf(n.logFile, lines)}`),
        `--- etcd\n${tailOf(etcdLog, lines)}`,
        `--- haproxy\n${tailOf(haproxyLog, lines)}`,
      ].join('\n'),
    close: async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const postmasters = nodes.flatMap((n) => {
        const pid = readPostmasterPid(n.dataDir);
        return pid !== undefined && alive(pid) ? [pid] : [];
      });
      // immediate shutdown: the postmaster takes its backends down with it
      for (const pid of postmasters) process.kill(pid, 'SIGQUIT');
      await waitFor(() => postmasters.every((pid) => !alive(pid)), {
        timeoutMs: 5_000,
        description: 'postmasters to exit',
      }).catch(() => {
        for (const pid of postmasters) if (alive(pid)) process.kill(pid, 'SIGKILL');
      });
      watchdog.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    children.push(
      spawnLogged(
        '/usr/bin/etcd',
        [
          '--name',
          'etcd1',
          '--data-dir',
          join(dir, 'etcd'),
          '--listen-client-urls',
          `http://127.0.0.1:${etcdClient}`,
          '--advertise-client-urls',
          `http://127.0.0.1:${etcdClient}`,
          '--listen-peer-urls',
          `http://127.0.0.1:${etcdPeer}`,
          '--initial-advertise-peer-urls',
          `http://127.0.0.1:${etcdPeer}`,
          '--initial-cluster',
          `etcd1=http://127.0.0.1:${etcdPeer}`,
          '--initial-cluster-state',
          'new',
        ],
        etcdLog,
        join(pidDir, 'etcd.pid'),
      ),
    );
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
      { timeoutMs: 20_000, intervalMs: 100, description: 'etcd /health' },
    );

    const namespace = `/sagaflow-${process.pid}-${Date.now()}/`;
    const startPatroni = (node: PatroniNode): void => {
      const configFile = join(dir, `${node.name}.yml`);
      writeFileSync(configFile, JSON.stringify(patroniConfig(node, etcdClient, dir, namespace), null, 2));
      chownSync(configFile, ids.uid, ids.gid);
      const child = spawnLogged('/usr/bin/patroni', [configFile], node.logFile, join(pidDir, `${node.name}.pid`), ids);
      node.patroni = child;
      children.push(child);
    };
    // the first member bootstraps (initdb); the others clone it with pg_basebackup once it leads
    startPatroni(nodes[0]!);
    await cluster.leader(60_000);
    for (const node of nodes.slice(1)) startPatroni(node);
    await cluster.waitHealthy(90_000, nodes.length);

    const haproxyConfigFile = join(dir, 'haproxy.cfg');
    writeFileSync(haproxyConfigFile, haproxyConfig(haproxyPort, nodes));
    children.push(
      spawnLogged('/usr/sbin/haproxy', ['-db', '-f', haproxyConfigFile], haproxyLog, join(pidDir, 'haproxy.pid')),
    );
    await waitForPrimaryBehindHaproxy(cluster.url);
    return cluster;
  } catch (error) {
    const logs = cluster.logTails(30);
    await cluster.close();
    throw new Error(`the HA cluster did not come up: ${String(error)}\n${logs}`, { cause: error });
  }
}
