import pg from 'pg';

export interface WriteSample {
  at: number;
  ok: boolean;
}

export interface WriteProbe {
  /** the first successful write that started at or after `since` */
  firstWriteAfter(since: number): WriteSample | undefined;
  stop(): Promise<void>;
}

/**
 * Writes a row through `url` every `intervalMs` on a connection of its own (a fresh one after each failure), and
 * records whether each write committed: "writes work again" is the first committed write after a kill.
 */
export async function startWriteProbe(url: string, intervalMs = 100): Promise<WriteProbe> {
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 1_000, query_timeout: 2_000 });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  await pool.query('create table if not exists ha_write_probe (at timestamptz not null default now())');
  const samples: WriteSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const ok = await pool.query('insert into ha_write_probe default values').then(
        () => true,
        () => false,
      );
      samples.push({ at, ok });
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    firstWriteAfter: (since) => samples.find((s) => s.at >= since && s.ok),
    stop: async () => {
      stopped = true;
      await loop;
      await pool.end();
    },
  };
}
