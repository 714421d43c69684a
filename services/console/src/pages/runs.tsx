import type { OperationAction, RunFilters, RunStatus, RunSummary } from '@sagaflow/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { ConfirmButton, ErrorNotice, relativeTime, StatusBadge } from '../components.js';
import { can, canRead, useSession } from '../session.js';

export const RUN_STATUSES: RunStatus[] = [
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'COMPENSATING',
  'COMPENSATED',
  'CANCELLING',
  'CANCELLED',
];

/** The runs list's URL search: the GET /v1/runs filters (shareable), plus the cursor of the page shown. */
export interface RunsSearch {
  status?: string;
  workflowName?: string;
  errorCode?: string;
  correlationId?: string;
  context?: string;
  /** only runs waiting for a retry now */
  retrying?: boolean;
  cursor?: string;
}

export function validateRunsSearch(search: Record<string, unknown>): RunsSearch {
  const out: RunsSearch = {};
  if (search['retrying'] === true || search['retrying'] === 'true') out.retrying = true;
  for (const key of ['status', 'workflowName', 'errorCode', 'correlationId', 'context', 'cursor'] as const) {
    const value = search[key];
    if (typeof value === 'string' && value !== '') out[key] = value;
    // TanStack Router parses JSON-looking values: keep the context filter as the text the user typed
    else if (key === 'context' && value && typeof value === 'object') out[key] = JSON.stringify(value);
  }
  return out;
}

const route = getRouteApi('/runs');

function parseContext(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('a JSON object');
  return parsed as Record<string, unknown>;
}

function filtersOf(search: RunsSearch): RunFilters {
  return {
    ...(search.status ? { status: search.status.split(',') as RunStatus[] } : {}),
    ...(search.workflowName ? { workflowName: search.workflowName } : {}),
    ...(search.errorCode ? { errorCode: search.errorCode as RunFilters['errorCode'] } : {}),
    ...(search.correlationId ? { correlationId: search.correlationId } : {}),
    ...(search.context ? { context: parseContext(search.context) } : {}),
    ...(search.retrying ? { retrying: true } : {}),
  };
}

const ACTIONS: OperationAction[] = ['cancel', 'redrive', 'pause', 'resume'];

/** Which selected runs an action applies to (what the per-run endpoints would accept). */
function eligible(action: OperationAction, run: RunSummary): boolean {
  switch (action) {
    case 'cancel':
      return run.status === 'PENDING' || run.status === 'RUNNING';
    case 'redrive':
      return run.status === 'FAILED';
    case 'pause':
      return !run.paused && ['PENDING', 'RUNNING', 'COMPENSATING', 'CANCELLING'].includes(run.status);
    case 'resume':
      return run.paused;
  }
}

export function RunsPage() {
  const session = useSession();
  const search = route.useSearch();
  const navigate = useNavigate({ from: '/runs' });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  let filters: RunFilters = {};
  let filterError: unknown = null;
  try {
    filters = filtersOf(search);
  } catch (error) {
    filterError = new Error(`Context (JSON) must be ${error instanceof Error ? error.message : 'valid JSON'}`);
  }
  const readable = canRead(session, 'operator');
  const { status: _status, retrying: _retrying, ...withoutStatus } = filters;
  const page = useQuery({
    queryKey: ['runs', session.role, search],
    queryFn: () =>
      session.client.runs.list({ ...filters, limit: 50, ...(search.cursor ? { cursor: search.cursor } : {}) }),
    enabled: readable && !filterError,
    refetchInterval: 5_000,
  });
  const counts = useQuery({
    queryKey: ['counts', session.role, withoutStatus],
    queryFn: () => session.client.runs.counts(withoutStatus),
    enabled: readable && !filterError,
    refetchInterval: 5_000,
  });
  // what "all matching" covers: the filters as they are, status and retrying included (the chips count without them)
  const matchingCount = useQuery({
    queryKey: ['counts', session.role, filters, 'matching'],
    queryFn: () => session.client.runs.counts(filters),
    enabled: readable && !filterError && allMatching,
    refetchInterval: 5_000,
  });
  const retryingCount = useQuery({
    queryKey: ['counts', session.role, withoutStatus, 'retrying'],
    queryFn: () => session.client.runs.counts({ ...withoutStatus, retrying: true }),
    enabled: readable && !filterError,
    refetchInterval: 5_000,
  });

  if (!readable) {
    return (
      <section>
        <h1>Runs</h1>
        <p>Searching runs needs the operator role: enter an operator or admin key (API key, top right).</p>
      </section>
    );
  }

  const statuses = new Set(search.status ? search.status.split(',') : []);
  const toggleStatus = (status: string): void => {
    const next = new Set(statuses);
    if (next.has(status)) next.delete(status);
    else next.add(status);
    void navigate({ search: { ...search, status: [...next].join(',') || undefined, cursor: undefined } });
  };
  const applyFilters = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string): string | undefined => {
      const value = form.get(name);
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    };
    setSelected(new Set());
    setAllMatching(false);
    void navigate({
      search: {
        status: search.status,
        retrying: search.retrying,
        workflowName: text('workflowName'),
        errorCode: text('errorCode'),
        correlationId: text('correlationId'),
        context: text('context'),
      },
    });
  };
  const items = page.data?.items ?? [];
  const toggle = (runId: string): void => {
    const next = new Set(selected);
    if (next.has(runId)) next.delete(runId);
    else next.add(runId);
    setSelected(next);
    setAllMatching(false);
  };

  return (
    <section>
      <h1>Runs</h1>
      <form className="filters" onSubmit={applyFilters} key={JSON.stringify(search)}>
        <label>
          Workflow
          <input name="workflowName" defaultValue={search.workflowName ?? ''} />
        </label>
        <label>
          Error code
          <input name="errorCode" defaultValue={search.errorCode ?? ''} />
        </label>
        <label>
          Correlation id
          <input name="correlationId" defaultValue={search.correlationId ?? ''} />
        </label>
        <label>
          Context (JSON)
          <input name="context" defaultValue={search.context ?? ''} placeholder='{"tenantId":"acme"}' />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorNotice error={filterError} />
      <div className="chips" role="group" aria-label="Status">
        {RUN_STATUSES.map((status) => (
          <button
            key={status}
            type="button"
            className={`chip status-${status.toLowerCase()}`}
            aria-pressed={statuses.has(status)}
            data-testid={`chip-${status}`}
            onClick={() => toggleStatus(status)}
          >
            {status} <span className="count">{counts.data?.byStatus[status] ?? '…'}</span>
          </button>
        ))}
        <button
          type="button"
          className="chip status-running"
          aria-pressed={search.retrying === true}
          data-testid="chip-RETRYING"
          title="runs whose last attempt was retryable and whose next attempt is scheduled"
          onClick={() =>
            void navigate({
              search: { ...search, retrying: search.retrying ? undefined : true, cursor: undefined },
            })
          }
        >
          retrying now <span className="count">{retryingCount.data?.total ?? '…'}</span>
        </button>
        <span className="total">total {counts.data?.total ?? '…'}</span>
      </div>
      <ErrorNotice error={page.error ?? counts.error} />
      {can(session, 'operator') && (
        <div className="bulk">
          {can(session, 'admin') && (
            <label>
              <input
                type="checkbox"
                checked={allMatching}
                onChange={(event) => {
                  setAllMatching(event.target.checked);
                  setSelected(new Set());
                }}
              />
              Select all matching
            </label>
          )}
          <span data-testid="selection">
            {allMatching ? `all ${matchingCount.data?.total ?? '…'} matching` : `${selected.size} selected`}
          </span>
          <BulkAction
            filters={filters}
            allMatching={allMatching}
            selected={items.filter((run) => selected.has(run.runId))}
            onDone={() => setSelected(new Set())}
          />
        </div>
      )}
      <table aria-label="Runs">
        <thead>
          <tr>
            {can(session, 'operator') && <th scope="col">Select</th>}
            <th scope="col">Run</th>
            <th scope="col">Workflow</th>
            <th scope="col">Status</th>
            <th scope="col">Error</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {items.map((run) => (
            <tr key={run.runId} data-testid="run-row" data-run-id={run.runId}>
              {can(session, 'operator') && (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select run ${run.runId}`}
                    checked={allMatching || selected.has(run.runId)}
                    disabled={allMatching}
                    onChange={() => toggle(run.runId)}
                  />
                </td>
              )}
              <td>
                <Link to="/runs/$runId" params={{ runId: run.runId }} className="mono">
                  {run.runId}
                </Link>
              </td>
              <td>
                {run.workflowName}@{run.workflowVersion}
              </td>
              <td>
                <StatusBadge status={run.status} />
                {run.paused && <span className="badge paused">paused</span>}
              </td>
              <td className="error-cell">
                {run.error ? `${run.error.code}${run.error.stepId ? ` at ${run.error.stepId}` : ''}` : ''}
              </td>
              <td title={run.createdAt}>{relativeTime(run.createdAt)}</td>
            </tr>
          ))}
          {page.isSuccess && items.length === 0 && (
            <tr>
              <td colSpan={6}>No run matches.</td>
            </tr>
          )}
        </tbody>
      </table>
      <nav className="paging" aria-label="Pages">
        <button
          type="button"
          disabled={!search.cursor}
          onClick={() => void navigate({ search: { ...search, cursor: undefined } })}
        >
          First page
        </button>
        <button
          type="button"
          disabled={!page.data?.nextCursor}
          onClick={() => void navigate({ search: { ...search, cursor: page.data?.nextCursor ?? undefined } })}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}

/**
 * The bulk action: on "all matching", a background operation over the filter (dry run first: matched and eligible);
 * on selected runs, the per-run endpoints one by one (eligible counted from their status first).
 */
function BulkAction({
  filters,
  allMatching,
  selected,
  onDone,
}: {
  filters: RunFilters;
  allMatching: boolean;
  selected: RunSummary[];
  onDone: () => void;
}) {
  const session = useSession();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [action, setAction] = useState<OperationAction>('redrive');
  const [preview, setPreview] = useState<{ matched: number; eligible: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const admin = can(session, 'admin');
  if (allMatching && !admin) return <span className="hint">bulk actions on all matching runs need the admin role</span>;
  const { cursor: _cursor, ...filter } = filters as RunFilters & { cursor?: string };
  const operationFilter = filter as Parameters<typeof session.client.admin.operations.create>[0]['filter'];
  const runPreview = async (): Promise<void> => {
    setError(null);
    try {
      if (allMatching) {
        const dry = await session.client.admin.operations.create({ action, filter: operationFilter, dryRun: true });
        setPreview({ matched: dry.matched, eligible: 'eligible' in dry ? dry.eligible : 0 });
      } else {
        setPreview({ matched: selected.length, eligible: selected.filter((run) => eligible(action, run)).length });
      }
    } catch (caught) {
      setError(caught);
    }
  };
  const act = async (): Promise<void> => {
    if (!preview) throw new Error('Preview first: see how many runs it applies to');
    if (allMatching) {
      const created = await session.client.admin.operations.create({ action, filter: operationFilter });
      if (!('operationId' in created)) throw new Error('the API answered a dry run');
      await navigate({ to: '/operations/$operationId', params: { operationId: created.operationId } });
      return;
    }
    // each run on its own: one refused (it changed since the preview) does not stop the others, and all are reported
    const targets = selected.filter((r) => eligible(action, r));
    const refused: string[] = [];
    for (const run of targets) {
      try {
        if (action === 'cancel') await session.client.runs.cancel(run.runId);
        else await session.client.runs[action](run.runId, { reason: 'console bulk action' });
      } catch (caught) {
        refused.push(`${run.runId}: ${caught instanceof Error ? caught.message : String(caught)}`);
      }
    }
    await Promise.all([
      queries.invalidateQueries({ queryKey: ['runs'] }),
      queries.invalidateQueries({ queryKey: ['counts'] }),
    ]);
    if (refused.length > 0)
      throw new Error(
        `${action}: done for ${targets.length - refused.length} of ${targets.length} runs; refused: ${refused.join('; ')}`,
      );
    onDone();
  };
  return (
    <ConfirmButton
      label="Bulk action…"
      title="Bulk action"
      disabled={!allMatching && selected.length === 0}
      onConfirm={act}
    >
      <label>
        Action
        <select
          value={action}
          onChange={(event) => {
            setAction(event.target.value as OperationAction);
            setPreview(null);
          }}
        >
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <p>
        {allMatching ? 'Every run matching the filters (a background operation).' : `${selected.length} selected runs.`}
      </p>
      <button type="button" onClick={() => void runPreview()}>
        Preview
      </button>
      {preview && (
        <p data-testid="dry-run">
          matched {preview.matched}, eligible {preview.eligible}
        </p>
      )}
      <ErrorNotice error={error} />
    </ConfirmButton>
  );
}
