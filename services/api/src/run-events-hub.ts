import { randomUUID } from 'node:crypto';
import {
  EVENTS_ALL_RUNS,
  EVENTS_CHANNEL,
  poolOf,
  refreshEventListener,
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
}

/**
 * Wakes the requests waiting for a run's next history event (long polls, streams). One dedicated connection of the
 * pool LISTENs on EVENTS_CHANNEL, opened at the first wait, and the instance keeps a row in event_listeners meanwhile:
 * statements that append history notify the run ids at commit only while such a row is fresh, so a wait ends on
 * whichever API instance it is, and with nobody waiting anywhere no commit pays for a NOTIFY
 * (docs/architecture.md#history-notifications-only-when-someone-waits). The wait that opens the listener returns at
 * once, once the row is in: what committed before it may not have been announced, so its caller reads again. A lost
 * connection wakes every waiter (they read again) and is reopened by the next wait; a waiter that was not woken still
 * reads again when its time is up. Once nobody has waited for idleMs the listener is closed and the row deleted.
 */
export class RunEventsHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: Promise<pg.PoolClient> | undefined;
  /** the listener is open and its row in: history commits are announced to this instance */
  private ready = false;
  private closed = false;
  /** the event_listeners row of the listener open now (a new one per opening) */
  private row: string | undefined;
  private readonly ttlMs: number;
  private readonly refreshMs: number;
  private readonly idleMs: number;
  private refreshTimer: NodeJS.Timeout | undefined;
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
        const opened = !this.ready;
        const listening = await this.listen().then(
          () => true,
          (error: unknown) => {
            this.log.warn({ err: error }, 'run events listener could not connect; waiting out the time');
            return false;
          },
        );
        // history committed before the row was in went unannounced: the caller reads again, then waits
        if (opened && listening) return;
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
    return { streams: this.openStreams, waits: this.pendingWaits, waiters, listening: this.ready };
  }

  /** The id of the event_listeners row of the listener open now, if any. */
  get listenerRow(): string | undefined {
    return this.ready ? this.row : undefined;
  }

  private busy(): boolean {
    return this.pendingWaits > 0 || this.openStreams > 0 || this.waiters.size > 0;
  }

  /** While listening: refreshes the row, or closes the listener once nobody has waited for idleMs. */
  private async tick(): Promise<void> {
    const row = this.row;
    if (!this.ready || !row) return;
    if (this.busy()) this.lastBusy = Date.now();
    else if (Date.now() - this.lastBusy >= this.idleMs) {
      await this.stopListening();
      return;
    }
    await refreshEventListener(this.db, row, this.ttlMs).catch((error: unknown) =>
      this.log.warn({ err: error }, 'run events listener row could not be refreshed'),
    );
  }

  private startRefreshing(): void {
    clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => void this.tick(), this.refreshMs);
    this.refreshTimer.unref();
  }

  /** Closes the listener and deletes the row (idle, or the hub is closing). */
  private async stopListening(): Promise<void> {
    clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    this.ready = false;
    const opening = this.client;
    const row = this.row;
    this.client = undefined;
    this.row = undefined;
    if (opening) {
      const client = await opening.catch(() => undefined);
      if (client) {
        client.removeAllListeners('notification');
        client.removeAllListeners('error');
        client.on('error', () => undefined);
        const ok = await client.query(`UNLISTEN ${EVENTS_CHANNEL}`).then(
          () => true,
          () => false,
        );
        client.release(ok ? undefined : true);
      }
    }
    if (row) await this.deleteRow(row);
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

  private listen(): Promise<pg.PoolClient> {
    if (this.closed) return Promise.reject(new Error('run events hub closed'));
    if (this.client) return this.client;
    const pool = poolOf(this.db);
    if (!pool) return Promise.reject(new Error('no pool behind the database handle'));
    const row = randomUUID();
    this.row = row;
    const opening = (async () => {
      const client = await pool.connect();
      const lost = (error?: Error): void => {
        if (this.client !== opening) return;
        this.client = undefined;
        this.row = undefined;
        this.ready = false;
        clearInterval(this.refreshTimer);
        this.refreshTimer = undefined;
        void this.deleteRow(row);
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
        // listening before the row is in: every commit that sees the row notifies a connection already listening
        await refreshEventListener(this.db, row, this.ttlMs);
      } catch (error) {
        lost(error as Error);
        throw error;
      }
      return client;
    })();
    this.client = opening;
    // registered before any caller's: a caller resumes with `ready` already set
    opening.then(
      () => {
        if (this.client !== opening) return;
        this.ready = true;
        this.lastBusy = Date.now();
        this.startRefreshing();
      },
      () => {
        if (this.client === opening) this.client = undefined;
      },
    );
    return opening;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeRuns([...this.waiters.keys()]);
    if (this.client) await this.stopListening();
  }
}
