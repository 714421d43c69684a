import {
  BULK_ACTIONS,
  nextOperationDueAt,
  processOperationBatch,
  reserveOperationBatch,
  type Db,
  type OperationBatchResult,
  type OperationReservation,
} from '@sagaflow/db';
import type { Logger } from 'pino';
import type { EngineMetrics } from './metrics.js';
import { WakeSignal } from './wake-signal.js';

export interface OperationWorkerOptions {
  /** batches of operations processed at once by this engine (each holds one connection while it runs); 0 = none */
  slots: number;
  /** the longest wait between two looks for due operation work */
  pollIntervalMs: number;
  /** runs per batch at most (a batch is a tenth of a second's worth at the operation's rate) */
  maxBatchRuns: number;
}

/**
 * The engine's share of bulk operations (docs/operations.md#bulk-operations): reserves due batches (the rate limit is
 * in Postgres, shared by every engine) and applies each in one transaction (operation-batch.ts). Holds nothing that a
 * crash could lose: a batch that did not commit is taken again, by this engine or another.
 */
export class OperationWorker {
  private readonly wake = new WakeSignal();
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private loop: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly db: Db,
    private readonly options: OperationWorkerOptions,
    private readonly logger: Logger,
    private readonly metrics?: Pick<EngineMetrics, 'operationRuns'>,
  ) {}

  /** An operation was created (NOTIFY): look for work at once. */
  notify(): void {
    this.wake.signal();
  }

  start(): void {
    if (this.loop || this.options.slots <= 0) return;
    this.loop = this.runLoop();
  }

  private async runLoop(): Promise<void> {
    while (!this.stopping) {
      let waitMs = this.options.pollIntervalMs;
      try {
        if (this.inFlight.size < this.options.slots) {
          const reservation = await reserveOperationBatch(this.db, this.options.maxBatchRuns);
          if (reservation) {
            this.launch(reservation);
            continue; // another slot may take the next reservation when it is due already
          }
          const due = await nextOperationDueAt(this.db);
          if (due) waitMs = Math.max(0, Math.min(waitMs, due.getTime() - Date.now()));
        }
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.logger.warn({ err: error }, 'operation reservation failed; will retry');
        this.failing = true;
      }
      if (!this.stopping) await this.wake.wait(waitMs);
    }
  }

  private launch(reservation: OperationReservation): void {
    const batch = processOperationBatch(this.db, reservation, BULK_ACTIONS).then(
      (result) => this.record(reservation, result),
      (error: unknown) =>
        this.logger.warn(
          { err: error, operationId: reservation.operationId, action: reservation.action },
          'operation batch failed; its runs will be taken again',
        ),
    );
    const done = batch.finally(() => {
      this.inFlight.delete(done);
      this.wake.signal(); // a slot is free
    });
    this.inFlight.add(done);
  }

  /** After the commit: one log line per run acted on (with the operation id), the counters, the completion. */
  private record(reservation: OperationReservation, result: OperationBatchResult | undefined): void {
    const { operationId, action } = reservation;
    if (!result) return; // cancelled (or finished) meanwhile
    for (const run of result.runs) {
      const outcome = run.state.toLowerCase();
      this.metrics?.operationRuns.inc({ action, outcome });
      const line = { operationId, action, runId: run.runId, outcome };
      if (run.state === 'SUCCEEDED') this.logger.info({ ...line, from: run.from, to: run.to }, 'operator action');
      else if (run.state === 'FAILED') this.logger.warn({ ...line, reason: run.reason }, 'operator action failed');
      else this.logger.info({ ...line, reason: run.reason }, 'operator action skipped');
    }
    if (result.completed) this.logger.info({ operationId, action }, 'operation completed');
  }

  /** Stops reserving and waits for the batches in flight (each is one transaction: it commits or rolls back). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.signal();
    await this.loop;
    await Promise.all([...this.inFlight]);
  }
}
