import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Debian packages the cluster needs, and the binary each one provides. */
const PACKAGES: ReadonlyArray<{ name: string; binary: string }> = [
  { name: 'patroni', binary: '/usr/bin/patroni' },
  { name: 'etcd-server', binary: '/usr/bin/etcd' },
  { name: 'haproxy', binary: '/usr/sbin/haproxy' },
];

/** Postgres 15's server binaries (initdb, postgres, pg_rewind, …), used by Patroni. */
export const PG_BIN_DIR = process.env['PG_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';

/**
 * Installs patroni, etcd-server and haproxy with apt-get when a binary is missing (services are not started: the
 * scenario runs its own instances on free loopback ports). Throws with a clear message when that is impossible.
 */
export function ensureHaBinaries(): void {
  if (!existsSync(`${PG_BIN_DIR}/postgres`)) throw new Error(`Postgres server binaries not found in ${PG_BIN_DIR}`);
  const missing = PACKAGES.filter((p) => !existsSync(p.binary)).map((p) => p.name);
  if (missing.length === 0) return;
  process.stdout.write(`[ha] installing ${missing.join(', ')} with apt-get\n`);
  const apt = (args: string[]): void => {
    execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  try {
    apt(install);
  } catch {
    // Stale or missing package lists (a fresh image): refresh them once and try again.
    apt(['update', '-qq']);
    apt(install);
  }
  const still = PACKAGES.filter((p) => !existsSync(p.binary)).map((p) => p.binary);
  if (still.length > 0) throw new Error(`apt-get did not provide ${still.join(', ')}`);
}
