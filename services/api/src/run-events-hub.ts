import { EVENTS_ALL_RUNS, EVENTS_CHANNEL, poolOf, type Db } from '@sagaflow/db';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';

/**
 * Wakes the requests waiting for a run's next history event (long polls, streams). One dedicated connection of the
 * pool LISTENs on EVENTS_CHANNEL, opened at the first wait; every statement that appends history notifies the run ids
 * at commit, so a wait ends on whichever API instance it is. A lost connection wakes every waiter (they read again)
 * and is reopened by the next wait; a waiter that was not woken still reads again when its time is up.
 */
export class RunEventsHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: Promise<pg.PoolClient> | undefined;
  private closed = false;
  /** wait() calls not returned yet (each holds a timer until it returns) */
  private pendingWaits = 0;
  /** SSE streams open (run-events-stream.ts counts them here, for the gauge) */
  private openStreams = 0;

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
  ) {}

  /**
   * Resolves when `runId` may have new events, after `ms` at the latest, or when `signal` aborts. Call it before
   * reading, and read again when it resolves: a notification between the read and the wait is not missed.
   */
  subscribe(runId: string): { wait: (ms: number, signal?: AbortSignal) => Promise<void>; close: () => void } {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    let set = this.waiters.get(runId);
    if (!set) this.waiters.set(runId, (set = new Set()));
    set.add(wake);
    const close = (): void => {
      const current = this.waiters.get(runId);
      current?.delete(wake);
      if (current?.size === 0) this.waiters.delete(runId);
    };
    const wait = async (ms: number, signal?: AbortSignal): Promise<void> => {
      this.pendingWaits++;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      try {
        await this.listen().catch((error: unknown) =>
          this.log.warn({ err: error }, 'run events listener could not connect; waiting out the time'),
        );
        // a client gone before the wait (during a read) must not wait out the time: an abort listener added to an
        // aborted signal never fires
        if (signal?.aborted) return;
        const aborted = new Promise<void>((resolve) => {
          onAbort = resolve;
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
        await Promise.race([woken, timeout, aborted]);
      } finally {
        clearTimeout(timer);
        // a stream waits many times on one signal: leave no listener behind per wait
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        close();
        this.pendingWaits--;
      }
    };
    return { wait, close };
  }

  /** Counts an SSE stream as open until the returned function is called (once). */
  trackStream(): () => void {
    this.openStreams++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.openStreams--;
    };
  }

  /** What the hub holds now: open streams, wait() calls in progress (each with a timer), registered wake-ups. */
  stats(): { streams: number; waits: number; waiters: number; listening: boolean } {
    let waiters = 0;
    for (const set of this.waiters.values()) waiters += set.size;
    return { streams: this.openStreams, waits: this.pendingWaits, waiters, listening: this.client !== undefined };
  }

  private wakeRuns(runIds: Iterable<string>): void {
    for (const runId of runIds) {
      const set = this.waiters.get(runId);
      if (!set) continue;
      this.waiters.delete(runId);
      for (const wake of set) wake();
    }
  }

  private listen(): Promise<pg.PoolClient> {
    if (this.closed) return Promise.reject(new Error('run events hub closed'));
    if (this.client) return this.client;
    const pool = poolOf(this.db);
    if (!pool) return Promise.reject(new Error('no pool behind the database handle'));
    const opening = (async () => {
      const client = await pool.connect();
      const lost = (error?: Error): void => {
        if (this.client !== opening) return;
        this.client = undefined;
        client.removeAllListeners('notification');
        client.release(error ?? true);
        this.log.warn({ err: error?.message }, 'run events listener lost its connection; waiters read again');
        this.wakeRuns([...this.waiters.keys()]);
      };
      try {
        client.on('notification', (n) => {
          if (n.channel !== EVENTS_CHANNEL) return;
          const payload = n.payload ?? '';
          this.wakeRuns(payload === EVENTS_ALL_RUNS ? [...this.waiters.keys()] : payload.split(','));
        });
        client.on('error', lost);
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      } catch (error) {
        lost(error as Error);
        throw error;
      }
      return client;
    })();
    this.client = opening;
    opening.catch(() => {
      if (this.client === opening) this.client = undefined;
    });
    return opening;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeRuns([...this.waiters.keys()]);
    const opening = this.client;
    this.client = undefined;
    if (!opening) return;
    const client = await opening.catch(() => undefined);
    if (!client) return;
    client.removeAllListeners('notification');
    await client.query(`UNLISTEN ${EVENTS_CHANNEL}`).catch(() => undefined);
    client.release();
  }
}
