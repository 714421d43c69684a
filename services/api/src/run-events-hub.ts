import { randomUUID } from 'node:crypto';
import {
  EVENTS_ALL_RUNS,
  EVENTS_CHANNEL,
  poolOf,
  REFRESH_EVENT_LISTENER_SQL,
  removeEventListener,
  type Db,
} from '@sagaflow/db';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';

export interface RunEventsHubOptions {
  /** the instance's event_listeners row counts this long after each refresh (default 10 s) */
  ttlMs?: number;
  /** how often the row is refreshed while listening (default 2 s) */
  refreshMs?: number;
  /** the listener is closed and the row deleted once nobody has waited this long (default 30 s) */
  idleMs?: number;
  /** after an opening, waits end by then at the latest, for the writers in flight at the opening (default 2 s) */
  settleMs?: number;
}

/** One opening of the LISTEN connection, with its event_listeners row. */
interface Listener {
  row: string;
  opening: Promise<Listener>;
  client?: pg.PoolClient;
  /** the connection went back to the pool (or was destroyed) and the row deleted */
  released: boolean;
  /** when its row was in (Date.now()): from then on every history commit notifies it */
  readyAt?: number;
}

/**
 * Wakes the requests waiting for a run's next history event (long polls, streams). One dedicated connection of the
 * pool LISTENs on EVENTS_CHANNEL, opened at the first wait, and keeps a row in event_listeners meanwhile (refreshed on
 * that connection): statements that append history notify the run ids at commit only while such a row is fresh, so a
 * wait ends on whichever API instance it is, and with nobody waiting anywhere no commit pays for a NOTIFY
 * (docs/architecture.md#history-notifications-only-when-someone-waits). What a statement begun before the row was in
 * writes is not announced: a wait whose subscription came before the listener was ready returns at once, so its caller
 * reads again, and for settleMs after an opening waits end by then at the latest (a statement in flight at the opening
 * may commit after that read). A lost connection wakes every waiter (they read again) and is reopened by the next wait;
 * a waiter that was not woken still reads again when its time is up. Once nobody has waited for idleMs the listener is
 * closed and the row deleted.
 */
export class RunEventsHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private listener: Listener | undefined;
  private closed = false;
  private readonly ttlMs: number;
  private readonly refreshMs: number;
  private readonly idleMs: number;
  private readonly settleMs: number;
  private refreshTimer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** when the hub last had a wait, a waiter or a stream (Date.now()) */
  private lastBusy = 0;
  /** wait() calls not returned yet (each holds a timer until it returns) */
  private pendingWaits = 0;
  /** SSE streams open (run-events-stream.ts counts them here, for the gauge) */
  private openStreams = 0;

  constructor(
    private readonly db: Db,
    private readonly log: FastifyBaseLogger,
    options: RunEventsHubOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.refreshMs = options.refreshMs ?? 2_000;
    this.idleMs = options.idleMs ?? 30_000;
    this.settleMs = options.settleMs ?? 2_000;
  }

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
    // the listener that announces what commits after the caller's read, if one was ready before it
    const announced = this.listener?.readyAt === undefined ? undefined : this.listener;
    const close = (): void => {
      const current = this.waiters.get(runId);
      current?.delete(wake);
      if (current?.size === 0) this.waiters.delete(runId);
    };
    const wait = async (ms: number, signal?: AbortSignal): Promise<void> => {
      this.pendingWaits++;
      const deadline = Date.now() + ms;
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      try {
        const listener = await this.listen().catch((error: unknown) => {
          this.log.warn({ err: error }, 'run events listener could not connect; waiting out the time');
          return undefined;
        });
        // the caller read before this listener was ready: what committed meanwhile was not announced
        if (listener && listener !== announced) return;
        // a client gone before the wait (during a read) must not wait out the time: an abort listener added to an
        // aborted signal never fires
        if (signal?.aborted) return;
        const settled = listener?.readyAt === undefined ? 0 : listener.readyAt + this.settleMs;
        const until = settled > Date.now() ? Math.min(deadline, settled) : deadline;
        const aborted = new Promise<void>((resolve) => {
          onAbort = resolve;
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, until - Date.now()))));
        await Promise.race([woken, timeout, aborted]);
      } finally {
        clearTimeout(timer);
        // a stream waits many times on one signal: leave no listener behind per wait
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        close();
        this.pendingWaits--;
        this.lastBusy = Date.now();
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
    return {
      streams: this.openStreams,
      waits: this.pendingWaits,
      waiters,
      listening: this.listener?.readyAt !== undefined,
    };
  }

  /** The id of the event_listeners row of the listener open now, if any. */
  get listenerRow(): string | undefined {
    return this.listener?.readyAt === undefined ? undefined : this.listener.row;
  }

  private busy(): boolean {
    return this.pendingWaits > 0 || this.openStreams > 0 || this.waiters.size > 0;
  }

  /** While listening: refreshes the row on the listening connection, or closes it once nobody has waited for idleMs. */
  private async tick(): Promise<void> {
    const listener = this.listener;
    if (this.ticking || !listener?.client || listener.readyAt === undefined) return;
    if (this.busy()) this.lastBusy = Date.now();
    else if (Date.now() - this.lastBusy >= this.idleMs) {
      await this.stopListening();
      return;
    }
    this.ticking = true;
    try {
      await listener.client.query(REFRESH_EVENT_LISTENER_SQL, [listener.row, this.ttlMs]);
    } catch (error) {
      // a connection that cannot refresh its row may not hear either: open another
      this.drop(listener, error as Error);
    } finally {
      this.ticking = false;
    }
  }

  /** Closes the listener and deletes its row (idle, or the hub is closing). */
  private async stopListening(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    await listener.opening.catch(() => undefined);
    const client = listener.client;
    if (listener.released || !client) return;
    listener.released = true;
    client.removeAllListeners('notification');
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    // queued behind a refresh in flight on the same connection: the row is deleted after it, not brought back by it
    const ok = await client.query(`UNLISTEN ${EVENTS_CHANNEL}`).then(
      () => true,
      () => false,
    );
    client.removeAllListeners('error');
    client.release(ok ? undefined : true);
    await this.deleteRow(listener.row);
  }

  /** The listener's connection failed: destroy it, delete its row, wake every waiter (they read again). */
  private drop(listener: Listener, error?: Error): void {
    if (listener.released) return;
    listener.released = true;
    listener.client?.removeAllListeners('notification');
    listener.client?.release(error ?? true);
    void this.deleteRow(listener.row);
    if (this.listener !== listener) return;
    this.listener = undefined;
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.log.warn({ err: error?.message }, 'run events listener lost its connection; waiters read again');
    this.wakeRuns([...this.waiters.keys()]);
  }

  private async deleteRow(row: string): Promise<void> {
    await removeEventListener(this.db, row).catch((error: unknown) =>
      this.log.warn({ err: error }, 'run events listener row could not be deleted; it expires'),
    );
  }

  private wakeRuns(runIds: Iterable<string>): void {
    for (const runId of runIds) {
      const set = this.waiters.get(runId);
      if (!set) continue;
      this.waiters.delete(runId);
      for (const wake of set) wake();
    }
  }

  /** The listener, once its row is in: opened by the first wait, shared by the others. */
  private listen(): Promise<Listener> {
    if (this.closed) return Promise.reject(new Error('run events hub closed'));
    if (this.listener) return this.listener.opening;
    const pool = poolOf(this.db);
    if (!pool) return Promise.reject(new Error('no pool behind the database handle'));
    const listener = { row: randomUUID(), released: false } as Listener;
    listener.opening = (async () => {
      const client = await pool.connect();
      listener.client = client;
      try {
        client.on('notification', (n) => {
          if (n.channel !== EVENTS_CHANNEL) return;
          const payload = n.payload ?? '';
          this.wakeRuns(payload === EVENTS_ALL_RUNS ? [...this.waiters.keys()] : payload.split(','));
        });
        client.on('error', (error) => this.drop(listener, error));
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
        // listening before the row is in: every commit that sees the row notifies a connection already listening
        await client.query(REFRESH_EVENT_LISTENER_SQL, [listener.row, this.ttlMs]);
      } catch (error) {
        this.drop(listener, error as Error);
        throw error;
      }
      return listener;
    })();
    this.listener = listener;
    // registered before any caller's: a caller resumes with readyAt already set
    listener.opening.then(
      () => {
        if (this.listener !== listener) return;
        listener.readyAt = Date.now();
        this.lastBusy = listener.readyAt;
        clearInterval(this.refreshTimer);
        this.refreshTimer = setInterval(() => void this.tick(), this.refreshMs);
        this.refreshTimer.unref();
      },
      () => {
        if (this.listener === listener) this.listener = undefined;
      },
    );
    return listener.opening;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeRuns([...this.waiters.keys()]);
    await this.stopListening();
  }
}
