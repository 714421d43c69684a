import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { ConfirmButton, ErrorNotice, relativeTime } from '../components.js';
import { can, useSession } from '../session.js';

/** Operations and schedules: both are admin data (SPEC §14). */

function NeedsAdmin({ what }: { what: string }) {
  return <p>{what} need the admin role: enter an admin key (API key, top right).</p>;
}

export function OperationsPage() {
  const session = useSession();
  const admin = can(session, 'admin');
  const list = useQuery({
    queryKey: ['operations', session.role],
    queryFn: () => session.client.admin.operations.list({ limit: 100 }),
    enabled: admin,
    refetchInterval: 2_000,
  });
  if (!admin) return <NeedsAdmin what="Bulk operations" />;
  return (
    <section>
      <h1>Operations</h1>
      <ErrorNotice error={list.error} />
      <table aria-label="Operations">
        <thead>
          <tr>
            <th scope="col">Operation</th>
            <th scope="col">Action</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.items ?? []).map((op) => (
            <tr key={op.operationId}>
              <td>
                <Link to="/operations/$operationId" params={{ operationId: op.operationId }} className="mono">
                  {op.operationId}
                </Link>
              </td>
              <td>{op.action}</td>
              <td>{op.status}</td>
              <td>
                <progress max={Math.max(op.total, 1)} value={op.succeeded + op.skipped + op.failed} />{' '}
                {op.succeeded + op.skipped + op.failed}/{op.total}
              </td>
              <td>{relativeTime(op.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const operationRoute = getRouteApi('/operations/$operationId');

export function OperationPage() {
  const session = useSession();
  const queries = useQueryClient();
  const { operationId } = operationRoute.useParams();
  const admin = can(session, 'admin');
  const op = useQuery({
    queryKey: ['operation', operationId, session.role],
    queryFn: () => session.client.admin.operations.get(operationId),
    enabled: admin,
    refetchInterval: (query) => (query.state.data?.status === 'RUNNING' ? 500 : false),
  });
  if (!admin) return <NeedsAdmin what="Bulk operations" />;
  if (op.error) return <ErrorNotice error={op.error} />;
  if (!op.data) return <p>Loading operation…</p>;
  const o = op.data;
  const processed = o.succeeded + o.skipped + o.failed;
  return (
    <section>
      <h1>
        Operation <span className="mono">{o.operationId}</span>
      </h1>
      <div className="run-head">
        <span className="badge" data-testid="operation-status">
          {o.status}
        </span>
        <span>{o.action}</span>
        <progress aria-label="Progress" max={Math.max(o.total, 1)} value={processed} />
        <span>
          {processed}/{o.total}: {o.succeeded} succeeded, {o.skipped} skipped, {o.failed} failed
        </span>
        {o.status === 'RUNNING' && (
          <ConfirmButton
            label="Cancel operation"
            title="Cancel this operation?"
            onConfirm={() =>
              session.client.admin.operations
                .cancel(o.operationId)
                .then(() => queries.invalidateQueries({ queryKey: ['operation', operationId] }))
            }
          >
            <p>It stops before the next run; what was done stays done.</p>
          </ConfirmButton>
        )}
      </div>
      <details className="json" open>
        <summary>Filter</summary>
        <pre>{JSON.stringify(o.filter, null, 2)}</pre>
      </details>
      {o.errors.length > 0 && (
        <table aria-label="Errors">
          <tbody>
            {o.errors.map((e) => (
              <tr key={e.runId}>
                <td>
                  <Link to="/runs/$runId" params={{ runId: e.runId }} className="mono">
                    {e.runId}
                  </Link>
                </td>
                <td>{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function SchedulesPage() {
  const session = useSession();
  const queries = useQueryClient();
  const admin = can(session, 'admin');
  const list = useQuery({
    queryKey: ['schedules', session.role],
    queryFn: () => session.client.admin.schedules.list(),
    enabled: admin,
    refetchInterval: 5_000,
  });
  if (!admin) return <NeedsAdmin what="Schedules" />;
  const refresh = (): Promise<void> => queries.invalidateQueries({ queryKey: ['schedules'] });
  return (
    <section>
      <h1>Schedules</h1>
      <ErrorNotice error={list.error} />
      <table aria-label="Schedules">
        <thead>
          <tr>
            <th scope="col">Schedule</th>
            <th scope="col">Workflow</th>
            <th scope="col">Cron</th>
            <th scope="col">Next fire</th>
            <th scope="col">Last fire</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((s) => (
            <tr key={s.id}>
              <td>{s.id}</td>
              <td>
                {s.workflowName}
                {s.version ? `@${s.version}` : ''}
              </td>
              <td className="mono">
                {s.cron} <span className="dim">{s.timezone}</span>
              </td>
              <td title={s.nextFireAt ?? ''}>{s.paused ? 'paused' : relativeTime(s.nextFireAt)}</td>
              <td>
                {s.lastRunId ? (
                  <Link to="/runs/$runId" params={{ runId: s.lastRunId }}>
                    {relativeTime(s.lastFireAt)}
                  </Link>
                ) : (
                  '–'
                )}
              </td>
              <td className="actions">
                {s.paused ? (
                  <ConfirmButton
                    label="Resume"
                    title={`Resume schedule ${s.id}?`}
                    onConfirm={() => session.client.admin.schedules.resume(s.id).then(refresh)}
                  />
                ) : (
                  <ConfirmButton
                    label="Pause"
                    title={`Pause schedule ${s.id}?`}
                    onConfirm={() => session.client.admin.schedules.pause(s.id).then(refresh)}
                  />
                )}
                <ConfirmButton
                  label="Trigger"
                  title={`Start a run of ${s.id} now?`}
                  onConfirm={() => session.client.admin.schedules.trigger(s.id).then(refresh)}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
