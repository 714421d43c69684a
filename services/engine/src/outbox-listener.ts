import { OUTBOX_CHANNEL } from '@sagaflow/db';
import pg from 'pg';
import type { Logger } from 'pino';

/**
 * LISTENs for new outbox work (and the other `channels`, e.g. schedule changes) on a dedicated connection and calls
 * `onWake(channel, payload)` for each notification. Reconnects by itself after Postgres restarts; polling covers the gap.
 */
export class OutboxListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly onWake: (channel: string, payload: string) => void,
    private readonly logger: Logger,
    private readonly channels: readonly string[] = [OUTBOX_CHANNEL],
  ) {}

  /** pg_backend_pid() of the listening connection; undefined while not connected */
  private pid: number | undefined;

  /** The backend pid of the LISTEN connection while it is up (starts check it is alive before handing runs over). */
  get backendPid(): number | undefined {
    return this.client ? this.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: 'sagaflow-engine-listen',
    });
    const lost = (error?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      if (!this.stopped) {
        this.logger.warn({ err: error?.message }, 'outbox listener lost its connection; reconnecting');
        this.scheduleReconnect();
      }
    };
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
      this.pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
    } catch (error) {
      client.on('error', () => {});
      void client.end().catch(() => {});
      this.scheduleReconnect();
      throw error;
    }
    this.client = client;
    client.on('notification', (message) => this.onWake(message.channel, message.payload ?? ''));
    client.on('error', lost);
    client.on('end', () => lost());
    // anything committed while we were not listening is found by the next claim
    for (const channel of this.channels) this.onWake(channel, '');
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start().catch(() => {});
    }, 1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }
}
