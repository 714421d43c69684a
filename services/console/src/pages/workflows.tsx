import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { ConfirmButton, ErrorNotice, relativeTime } from '../components.js';
import { can, canRead, useSession } from '../session.js';

export function WorkflowsPage() {
  const session = useSession();
  const readable = canRead(session, 'operator');
  const list = useQuery({
    queryKey: ['workflows', session.role],
    queryFn: () => session.client.workflows.list(),
    enabled: readable,
  });
  if (!readable) return <p>Listing workflows needs the operator role.</p>;
  return (
    <section>
      <h1>Workflows</h1>
      <ErrorNotice error={list.error} />
      <table aria-label="Workflows">
        <thead>
          <tr>
            <th scope="col">Workflow</th>
            <th scope="col">Latest</th>
            <th scope="col">Versions</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((workflow) => (
            <tr key={workflow.name}>
              <td>
                <Link to="/workflows/$name" params={{ name: workflow.name }}>
                  {workflow.name}
                </Link>
                {workflow.description && <div className="dim small">{workflow.description}</div>}
              </td>
              <td>{workflow.latestVersion}</td>
              <td>{workflow.versions.join(', ')}</td>
              <td>{workflow.paused ? <span className="badge paused">paused</span> : 'active'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const workflowRoute = getRouteApi('/workflows/$name');

interface DiagramStep {
  id: string;
  kind: 'http' | 'sleep' | 'signal';
  target: string;
  compensation?: string;
}

/** The steps of a definition as the diagram draws them (what each calls, and its compensation). */
function diagramSteps(definition: unknown): DiagramStep[] {
  const steps = (definition as { steps?: unknown[] }).steps ?? [];
  return steps.map((raw) => {
    const step = raw as Record<string, unknown>;
    const request = step['request'] as { method?: string; url?: string; service?: string; path?: string } | undefined;
    const compensation = step['compensation'] as
      { id?: string; request?: { method?: string; url?: string; path?: string } } | undefined;
    const describe = (r?: { method?: string; url?: string; service?: string; path?: string }): string =>
      r ? `${r.method ?? ''} ${r.url ?? `${r.service ?? ''}${r.path ?? ''}`}`.trim() : '';
    if (step['sleep']) return { id: String(step['id']), kind: 'sleep', target: 'sleep' };
    if (step['waitForSignal']) {
      const wait = step['waitForSignal'] as { name?: string };
      return { id: String(step['id']), kind: 'signal', target: `wait for "${wait.name ?? ''}"` };
    }
    return {
      id: String(step['id']),
      kind: 'http',
      target: describe(request),
      ...(compensation ? { compensation: `${compensation.id ?? 'undo'}: ${describe(compensation.request)}` } : {}),
    };
  });
}

export function WorkflowPage() {
  const session = useSession();
  const queries = useQueryClient();
  const { name } = workflowRoute.useParams();
  const { version } = workflowRoute.useSearch();
  const readable = canRead(session, 'operator');
  const list = useQuery({
    queryKey: ['workflows', session.role],
    queryFn: () => session.client.workflows.list(),
    enabled: readable,
  });
  const workflow = list.data?.find((w) => w.name === name);
  const shown = version ?? workflow?.latestVersion;
  const definition = useQuery({
    queryKey: ['workflow', name, shown, session.role],
    queryFn: () => session.client.workflows.get(name, shown!),
    enabled: readable && shown !== undefined,
  });
  if (!readable) return <p>Reading workflows needs the operator role.</p>;
  if (list.error) return <ErrorNotice error={list.error} />;
  if (list.isSuccess && !workflow) return <p role="alert">No workflow named {name}.</p>;
  const refresh = (): Promise<void> => queries.invalidateQueries({ queryKey: ['workflows'] });
  const steps = definition.data ? diagramSteps(definition.data.definition) : [];
  return (
    <section>
      <h1>Workflow {name}</h1>
      {workflow && (
        <div className="run-head">
          <span data-testid="workflow-paused" className={workflow.paused ? 'badge paused' : 'badge'}>
            {workflow.paused ? 'paused' : 'active'}
          </span>
          <nav aria-label="Versions" className="versions">
            {workflow.versions.map((v) => (
              <Link
                key={v}
                to="/workflows/$name"
                params={{ name }}
                search={{ version: v }}
                aria-current={v === shown ? 'page' : undefined}
              >
                {v}
              </Link>
            ))}
          </nav>
          {can(session, 'admin') &&
            (workflow.paused ? (
              <ConfirmButton
                label="Resume workflow"
                title={`Resume workflow ${name}?`}
                onConfirm={() => session.client.admin.workflows.resume(name, { reason: 'console' }).then(refresh)}
              >
                <p>Its waiting runs are dispatched again.</p>
              </ConfirmButton>
            ) : (
              <ConfirmButton
                label="Pause workflow"
                title={`Pause workflow ${name}?`}
                onConfirm={() => session.client.admin.workflows.pause(name, { reason: 'console' }).then(refresh)}
              >
                <p>Starts are still accepted, but nothing of any of its runs is dispatched until it is resumed.</p>
              </ConfirmButton>
            ))}
        </div>
      )}
      <ErrorNotice error={definition.error} />
      {definition.data && (
        <>
          <p className="dim small">
            version {shown}, registered {relativeTime(definition.data.registeredAt)}, sha256{' '}
            <span className="mono">{definition.data.sha256.slice(0, 12)}</span>
          </p>
          <ol className="diagram" data-testid="workflow-diagram" aria-label="Steps and their compensations">
            {steps.map((step, i) => (
              <li key={step.id}>
                <div className={`node node-${step.kind}`} data-testid="diagram-step">
                  <strong>
                    {i + 1}. {step.id}
                  </strong>
                  <div className="small mono">{step.target}</div>
                </div>
                {step.compensation && (
                  <div className="node node-compensation" data-testid="diagram-compensation">
                    <span className="small">↩ {step.compensation}</span>
                  </div>
                )}
              </li>
            ))}
          </ol>
          <details className="json">
            <summary>Definition</summary>
            <pre>{JSON.stringify(definition.data.definition, null, 2)}</pre>
          </details>
        </>
      )}
    </section>
  );
}
