import { isDatabaseUnavailable } from './errors.js';

export type Settlement<R> = { ok: true; value: R } | { ok: false; error: unknown };

interface Pending<T, R> {
  request: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitOptions<T, R> {
  /** commits a batch in one statement; settles each request on its own, in order */
  commit: (batch: T[]) => Promise<Array<Settlement<R>>>;
  /** requests with the same key never share a batch (e.g. one per run) */
  key?: (request: T) => string;
  maxBatch?: number;
}

/**
 * Group commit: requests that arrive while a batch is being committed wait and go together in the next one, so under
 * load many share one statement and one commit, and when idle each is committed at once (after the rest of the current
 * event-loop turn). When a batch fails as a whole, its requests are committed one by one so one bad request cannot fail
 * the others, unless the database is unavailable: then they all fail and their callers retry.
 */
export class GroupCommitter<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private draining = false;
  private readonly maxBatch: number;

  constructor(private readonly options: GroupCommitOptions<T, R>) {
    this.maxBatch = options.maxBatch ?? 64;
  }

  submit(request: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
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

  private takeBatch(): Array<Pending<T, R>> {
    const { key } = this.options;
    const keys = new Set<string>();
    const batch: Array<Pending<T, R>> = [];
    const rest: Array<Pending<T, R>> = [];
    for (const p of this.queue) {
      const k = key?.(p.request);
      if (batch.length < this.maxBatch && (k === undefined || !keys.has(k))) {
        if (k !== undefined) keys.add(k);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    return batch;
  }

  private async flush(batch: Array<Pending<T, R>>): Promise<void> {
    let settlements: Array<Settlement<R>>;
    try {
      settlements = await this.options.commit(batch.map((p) => p.request));
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      for (const p of batch) await this.flush([p]);
      return;
    }
    if (settlements.length !== batch.length) {
      const error = new Error(`group commit: ${settlements.length} settlements for ${batch.length} requests`);
      for (const p of batch) p.reject(error);
      return;
    }
    settlements.forEach((s, i) => {
      const p = batch[i]!;
      if (s.ok) p.resolve(s.value);
      else p.reject(s.error);
    });
  }
}
