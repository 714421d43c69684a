import { refreshEngine, removeEngine, type Db } from '@sagaflow/db';
import type { Logger } from 'pino';

/** How often an engine refreshes its row in `engines`; the row is ignored after three missed refreshes. */
export const REGISTRY_REFRESH_MS = 1_000;

export interface RegistrationOptions {
  id: string;
  /** the engine's handoff channel, and the backend pid of the connection LISTENing on it (undefined: not listening) */
  channel: string;
  listenPid: () => number | undefined;
  leaseMs: number;
  concurrency: number;
}

/**
 * An engine's row in `engines` (docs/architecture.md#the-first-step-handed-to-an-engine): how many first steps starts
 * may hand it. Refreshed every second with the current `load()` (attempts in slots plus handed items waiting), and at
 * once when the engine fills up or drains to half; deleted when the engine stops.
 */
export class Registration {
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  /** the row says this engine has no free slot (noteLoad) */
  private full = false;
  private stopped = false;
  /** the database's clock minus this process's (ms), from the last refresh; 0 until one succeeded */
  private clockOffsetMs = 0;

  constructor(
    private readonly db: Db,
    private readonly options: RegistrationOptions,
    private readonly load: () => number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.refresh(), REGISTRY_REFRESH_MS);
    void this.refresh();
  }

  /**
   * Tells the starts at once when the engine fills up (its slots and waiting handed items reach `concurrency`), and
   * again when it is down to half: a burst is not handed more than the engine can start, and what it is not handed
   * waits in the outbox in start order, for whichever engine frees a slot first. Without it, a burst piled up in one
   * engine for up to a second of stale free slots, ahead of the runs left to the claim (their p95 doubled).
   */
  noteLoad(): void {
    if (this.stopped) return;
    const load = this.load();
    if (!this.full && load >= this.options.concurrency) {
      this.full = true;
      void this.refresh();
    } else if (this.full && load <= this.options.concurrency / 2) {
      this.full = false;
      void this.refresh();
    }
  }

  /** The database's clock now (epoch ms), as estimated at the last refresh: times the starts wrote can be compared to it. */
  databaseNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Starts hand this engine nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
    await removeEngine(this.db, this.options.id).catch(() => undefined);
  }

  /** One refresh at a time; a call made while one is in flight runs once more after it, with the counts of then. */
  private async refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = this.writeRow();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = undefined;
    }
    if (this.refreshAgain) {
      this.refreshAgain = false;
      await this.refresh();
    }
  }

  private async writeRow(): Promise<void> {
    if (this.stopped) return;
    const pid = this.options.listenPid();
    try {
      const sentAt = Date.now();
      const databaseNow = await refreshEngine(this.db, {
        id: this.options.id,
        channel: this.options.channel,
        listenPid: pid ?? 0,
        leaseMs: this.options.leaseMs,
        freeSlots: pid === undefined || this.full ? 0 : this.options.concurrency - this.load(),
        ttlMs: 3 * REGISTRY_REFRESH_MS,
      });
      // the statement read the clock between sending and answering: the midpoint is within half a round trip
      this.clockOffsetMs = databaseNow - (sentAt + Date.now()) / 2;
    } catch (error) {
      this.logger.debug({ err: error }, 'engine registry refresh failed');
    }
  }
}
