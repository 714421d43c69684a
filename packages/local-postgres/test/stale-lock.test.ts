import { describe, expect, it } from 'vitest';
import { buildServerArgs } from '../src/server-process.js';
import { decideStaleLockAction } from '../src/stale-lock.js';

describe('decideStaleLockAction', () => {
  const dataDir = '/srv/pg/data';
  const cases = [
    { name: 'no postmaster.pid', lock: { pid: undefined, alive: false, commandLine: undefined }, action: 'none' },
    { name: 'garbage pid', lock: { pid: Number.NaN, alive: false, commandLine: undefined }, action: 'remove-lock' },
    { name: 'dead pid', lock: { pid: 4242, alive: false, commandLine: undefined }, action: 'remove-lock' },
    {
      name: 'pid reused by another program',
      lock: { pid: 4242, alive: true, commandLine: 'node server.js' },
      action: 'remove-lock',
    },
    {
      name: 'another cluster (e.g. the system one) now has that pid',
      lock: {
        pid: 4242,
        alive: true,
        commandLine: '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main',
      },
      action: 'remove-lock',
    },
    {
      name: 'a live postgres on this folder',
      lock: { pid: 4242, alive: true, commandLine: `/x/bin/postgres -D ${dataDir} -p 5000` },
      action: 'stop-server',
    },
    {
      name: 'a live process that cannot be identified',
      lock: { pid: 4242, alive: true, commandLine: undefined },
      action: 'refuse',
    },
  ] as const;

  for (const { name, lock, action } of cases) {
    it(`${name} → ${action}`, () => {
      expect(decideStaleLockAction({ ...lock, dataDir })).toBe(action);
    });
  }
});

describe('buildServerArgs', () => {
  it('listens on loopback only and turns durability off only for throwaway clusters', () => {
    const durable = buildServerArgs({ dataDir: '/d', port: 5555, throwaway: false });
    expect(durable.slice(0, 4)).toEqual(['-D', '/d', '-p', '5555']);
    expect(durable).toContain('listen_addresses=127.0.0.1');
    expect(durable).not.toContain('fsync=off');
    expect(buildServerArgs({ dataDir: '/d', port: 5555, throwaway: true })).toContain('fsync=off');
  });
});
