import type pg from 'pg';

/**
 * Makes `count` copies of a run (its workflow_runs row, run_steps rows and outbox items) under new run ids, in
 * three statements. Copying whole rows through jsonb keeps this independent of the columns: a new column is copied
 * too. The copies are as due as the original.
 */
export async function cloneRun(client: pg.Client, runId: string, count: number): Promise<void> {
  await client.query('begin');
  try {
    // the copies satisfy the foreign keys by construction: skip their triggers (this is a superuser's test database)
    await client.query('set local session_replication_role = replica');
    await client.query(
      'create temp table clone_ids on commit drop as select gen_random_uuid() as id from generate_series(1, $1::int)',
      [count],
    );
    await client.query(
      `insert into workflow_runs
       select (jsonb_populate_record(null::workflow_runs, to_jsonb(r) || jsonb_build_object('id', c.id))).*
         from workflow_runs r cross join clone_ids c where r.id = $1`,
      [runId],
    );
    await client.query(
      `insert into run_steps
       select (jsonb_populate_record(null::run_steps, to_jsonb(s) || jsonb_build_object('run_id', c.id))).*
         from run_steps s cross join clone_ids c where s.run_id = $1`,
      [runId],
    );
    await client.query(
      `insert into outbox overriding system value
       select (jsonb_populate_record(null::outbox, to_jsonb(o) || jsonb_build_object(
                 'run_id', c.id, 'id', nextval(pg_get_serial_sequence('outbox', 'id'))))).*
         from outbox o cross join clone_ids c where o.run_id = $1`,
      [runId],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}
