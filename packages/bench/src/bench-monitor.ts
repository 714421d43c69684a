import { createPool } from './db-access.js';

/** Every statement the bench itself sends starts with this, so pg_stat_statements deltas can leave them out. */
export const BENCH_MARKER = '/* sagaflow-bench */';

/**
 * The bench's own connection to a scenario's database (one connection). It counts its statements: each is one
 * autocommit transaction, which pg_stat_database's xact_commit also counts and the bench subtracts.
 */
export class BenchMonitor {
  private readonly pool: ReturnType<typeof createPool>;
  /** statements sent so far (each one transaction) */
  statements = 0;

  constructor(url: string) {
    this.pool = createPool(url, { max: 1, applicationName: 'sagaflow-bench' });
  }

  async query<Row extends object>(text: string, values: unknown[] = []): Promise<Row[]> {
    this.statements++;
    const result = await this.pool.query<Row>(`${BENCH_MARKER} ${text}`, values);
    return result.rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Runs fn on a monitor connection of its own, then closes it (the last counter read, after the main monitor has closed). */
export async function withFreshMonitor<T>(url: string, fn: (monitor: BenchMonitor) => Promise<T>): Promise<T> {
  const monitor = new BenchMonitor(url);
  try {
    return await fn(monitor);
  } finally {
    await monitor.close();
  }
}
