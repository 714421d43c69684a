import { fireDueSchedule, nextScheduleDue, type DefinitionCatalog, type Db, type ScheduleFire } from '@sagaflow/db';
import type { Logger } from 'pino';
import type { EngineMetrics } from './metrics.js';
import { WakeSignal } from './wake-signal.js';

export interface ScheduleLoopOptions {
  /** a fire time at most this old is late and still fires; older ones mean the engines were down (docs/contract.md#schedules) */
  catchUpMs: number;
  /** the longest wait between two looks at the schedules (a NOTIFY on every change cuts it short) */
  pollMs: number;
}

/** At most this many fires in a row before the loop looks at its stop flag and the clock again. */
const FIRES_PER_ROUND = 100;
/** The earliest schedule is due but locked: another engine is firing it; look again this soon. */
const LOCKED_RETRY_MS = 50;

/**
 * Fires the schedules (docs/contract.md#schedules) in every engine: each round fires what is due, one fire time per
 * transaction (fireDueSchedule: FOR UPDATE SKIP LOCKED, so engines never fire the same one), then sleeps until the
 * earliest next fire time by the database's clock, a NOTIFY on the schedules channel, or `pollMs`, whichever is first.
 * Nothing is held in memory between rounds: any engine fires any schedule, and a killed one leaves nothing behind.
 */
export class ScheduleLoop {
  private readonly wake = new WakeSignal();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private healthy = true;

  constructor(
    private readonly db: Db,
    private readonly catalog: DefinitionCatalog,
    private readonly options: ScheduleLoopOptions,
    private readonly logger: Logger,
    private readonly metrics?: EngineMetrics,
  ) {}

  /** A schedule changed (NOTIFY): look at the fire times again now. */
  notify(): void {
    this.wake.signal();
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.signal();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let waitMs = this.options.pollMs;
      try {
        waitMs = await this.round();
        if (!this.healthy) this.logger.info('schedules: firing again');
        this.healthy = true;
      } catch (error) {
        if (this.healthy) this.logger.warn({ err: error }, 'schedules: firing failed; will retry');
        this.healthy = false;
      }
      if (!this.stopping && waitMs > 0) await this.wake.wait(waitMs);
    }
  }

  /** Fires what is due; returns how long to wait before the next round. */
  private async round(): Promise<number> {
    for (let fired = 0; fired < FIRES_PER_ROUND; fired++) {
      if (this.stopping) return 0;
      const fire = await fireDueSchedule(this.db, this.catalog, this.options.catchUpMs);
      if (!fire) break;
      this.record(fire);
      if (fired === FIRES_PER_ROUND - 1) return 0;
    }
    const { nextFireAt, now } = await nextScheduleDue(this.db);
    if (!nextFireAt) return this.options.pollMs;
    const untilDue = nextFireAt.getTime() - now.getTime();
    // due but not fired above: another engine holds it right now
    if (untilDue <= 0) return Math.min(LOCKED_RETRY_MS, this.options.pollMs);
    // + 1 ms: the timer is armed after the clock was read, so the database's clock has passed the fire time when it ends
    return Math.min(untilDue + 1, this.options.pollMs);
  }

  private record(fire: ScheduleFire): void {
    const log = this.logger.child({ scheduleId: fire.scheduleId, fireAt: fire.fireAt.toISOString() });
    if (fire.missed > 0) {
      this.metrics?.scheduleFires.inc({ outcome: 'missed' }, fire.missed);
      log.warn({ missed: fire.missed }, 'schedule: fire times missed while no engine ran; the latest fires');
    }
    this.metrics?.scheduleFires.inc({ outcome: fire.outcome });
    switch (fire.outcome) {
      case 'fired':
        log.info({ runId: fire.runId, nextFireAt: fire.nextFireAt?.toISOString() ?? null }, 'schedule fired');
        break;
      case 'skipped':
        log.info('schedule: fire time skipped, the previous run is still going (overlap skip)');
        break;
      case 'failed':
        log.error({ error: fire.error }, 'schedule: run could not be started; fire time skipped');
        break;
    }
  }
}
