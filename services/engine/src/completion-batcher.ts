import { completeItems, isDatabaseUnavailable, type CompletionOutcome, type CompletionRequest, type CompletionSettlement, type Db } from '@sagaflow/db';

interface Pending {
  request: CompletionRequest;
  resolve: (outcome: CompletionOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit. Completions that arrive while a batch is being committed wait and go together in the next one, so
 * under load many attempts share one statement and one commit, and an idle engine still commits each completion at
 * once (it waits only for the rest of the current event-loop turn). Each item stays fenced and guarded on its own
 * (completeItems): a lost lease fails that item alone.
 */
export class CompletionBatcher {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly db: Db,
    private readonly maxBatch = 64,
  ) {}

  complete(request: CompletionRequest): Promise<CompletionOutcome> {
    return new Promise<CompletionOutcome>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.flush(this.takeBatch());
    } finally {
      this.draining = false;
    }
  }

  /** Up to maxBatch requests, one per run (a second completion of the same run waits for the next batch). */
  private takeBatch(): Pending[] {
    const runs = new Set<string>();
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.queue) {
      if (batch.length < this.maxBatch && !runs.has(p.request.item.runId)) {
        runs.add(p.request.item.runId);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async flush(batch: Pending[]): Promise<void> {
    let settlements: CompletionSettlement[];
    try {
      settlements = await completeItems(this.db, batch.map((p) => p.request));
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error)) {
        for (const p of batch) p.reject(error); // callers retry while their lease lasts
        return;
      }
      // one bad item must not hold the others back: each alone
      for (const p of batch) await this.flush([p]);
      return;
    }
    settlements.forEach((s, i) => {
      const p = batch[i]!;
      if (s.ok) p.resolve(s.outcome);
      else p.reject(s.error);
    });
  }
}
