import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AttemptResult } from '@sagaflow/saga';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimOutboxBatch,
  completeItems,
  createDb,
  createPool,
  isDatabaseUnavailable,
  LeaseLostError,
  registerDefinition,
  startRun,
  type CompletionRequest,
  type Db,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/index.js';
import { definitionOf } from './support/definitions.js';

/**
 * A completion whose connection is lost at COMMIT (a failover: the primary dies, HAProxy cuts the session) leaves the
 * engine not knowing whether it committed. The engine retries it (Engine.commit) with the same lease token. These tests
 * drop the connection through a TCP proxy at the two possible moments and show the retry is harmless either way: if the
 * first try committed, the retry fails the fencing check (LeaseLostError) and changes nothing; if it did not, the retry
 * commits it, once.
 */

type Drop = 'answer-after-commit' | 'request-before-server';

/** ReadyForQuery with transaction status idle ('Z', length 5, 'I'): the server's answer once a commit is done. */
const READY_IDLE = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

interface CuttingProxy {
  url: string;
  /** the next completion's connection is cut at the chosen moment */
  arm(drop: Drop): void;
  cuts(): number;
  close(): Promise<void>;
}

async function startCuttingProxy(targetUrl: string): Promise<CuttingProxy> {
  const target = new URL(targetUrl);
  let armed: Drop | undefined;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    const cut = (): void => {
      armed = undefined;
      cuts++;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      // the statement never reaches Postgres: nothing committed
      if (armed === 'request-before-server') return cut();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      // Postgres committed and answered; the answer is lost on the way
      if (armed === 'answer-after-commit' && chunk.includes(READY_IDLE)) return cut();
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  const proxied = new URL(targetUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(address.port);
  return {
    url: proxied.toString(),
    arm: (drop) => {
      armed = drop;
    },
    cuts: () => cuts,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const TWO = definitionOf({
  name: 'two',
  version: '1.0.0',
  steps: [
    { id: 's0', request: { method: 'POST', url: 'http://127.0.0.1:9/s0' } },
    { id: 's1', request: { method: 'POST', url: 'http://127.0.0.1:9/s1' } },
  ],
});

let database: TestDatabase;
let db: Db;
let proxy: CuttingProxy;
let proxied: Db;
beforeEach(async () => {
  database = await createTestDatabase();
  db = database.db;
  await registerDefinition(db, TWO);
  proxy = await startCuttingProxy(database.url);
  proxied = createDb(createPool(proxy.url, { max: 1, connectionTimeoutMillis: 2_000 }));
  // an open connection, so the cut strikes the completion's statement and not a connection's start-up
  await sql`select 1`.execute(proxied);
});
afterEach(async () => {
  await proxied?.destroy();
  await proxy?.close();
  await database?.drop();
});

/** Everything a completion writes, to compare before and after the retry. */
async function snapshot(runId: string) {
  const [run, steps, attempts, outbox] = await Promise.all([
    db.selectFrom('workflow_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow(),
    db.selectFrom('run_steps').selectAll().where('run_id', '=', runId).orderBy('step_index').execute(),
    db.selectFrom('step_attempts').selectAll().where('run_id', '=', runId).execute(),
    db.selectFrom('outbox').selectAll().where('run_id', '=', runId).orderBy('id').execute(),
  ]);
  return { run, steps, attempts, outbox };
}

async function claimedCompletion(): Promise<CompletionRequest> {
  const { runId } = await startRun(db, { workflowName: 'two', input: {}, correlationId: 'c-1' });
  const [item] = await claimOutboxBatch(db, 'engine-a', 5, 60_000);
  expect(item?.runId).toBe(runId);
  const result: AttemptResult = { outcome: 'SUCCEEDED', output: { ok: true } };
  const now = new Date();
  return {
    item: item!,
    attempt: { attemptNo: 1, outcome: 'SUCCEEDED', httpStatus: 200, error: null, startedAt: now, finishedAt: now },
    result,
    carryOver: { owner: 'engine-a', leaseMs: 30_000 },
  };
}

describe('a completion whose connection is lost at COMMIT', () => {
  it('committed, answer lost: the retry fails the fencing check and changes nothing', async () => {
    const request = await claimedCompletion();
    proxy.arm('answer-after-commit');
    const lost = await completeItems(proxied, [request]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(proxy.cuts()).toBe(1);
    // the engine sees a connection failure, which it treats as "retry while the lease may still be ours"
    expect(isDatabaseUnavailable(lost), String(lost)).toBe(true);
    const committed = await snapshot(request.item.runId);
    expect(committed.steps[0]?.status).toBe('SUCCEEDED');
    expect(committed.attempts).toHaveLength(1);

    // the retry (same item, same lease token), on a fresh connection as Engine.commit does it
    const [settlement] = await completeItems(proxied, [request]);
    expect(settlement?.ok).toBe(false);
    expect(settlement && !settlement.ok && settlement.error).toBeInstanceOf(LeaseLostError);
    expect(await snapshot(request.item.runId)).toEqual(committed);
  });

  it('not committed, request lost: the retry commits it, once', async () => {
    const request = await claimedCompletion();
    const before = await snapshot(request.item.runId);
    proxy.arm('request-before-server');
    const lost = await completeItems(proxied, [request]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(proxy.cuts()).toBe(1);
    expect(isDatabaseUnavailable(lost), String(lost)).toBe(true);
    expect(await snapshot(request.item.runId)).toEqual(before);

    const [settlement] = await completeItems(proxied, [request]);
    expect(settlement?.ok, String(settlement && !settlement.ok && settlement.error)).toBe(true);
    const after = await snapshot(request.item.runId);
    expect(after.steps[0]?.status).toBe('SUCCEEDED');
    expect(after.attempts).toHaveLength(1);
  });
});
