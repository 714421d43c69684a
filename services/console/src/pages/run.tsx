import type { RunEvent, RunView } from '@sagaflow/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useEffect, useMemo, useState } from 'react';
import { ConfirmButton, ErrorNotice, JsonDetails, relativeTime, StatusBadge } from '../components.js';
import { can, useSession, type Session } from '../session.js';
import { buildTimeline, formatDuration, GAP_LABEL, type Lane, type Timeline } from '../timeline.js';

const route = getRouteApi('/runs/$runId');
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'COMPENSATED', 'CANCELLED']);

/** Every event of the run so far (pages of 1,000), then live over the SSE stream until the run ends. */
function useRunHistory(session: Session, runId: string, generation: number): { events: RunEvent[]; error: unknown } {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const queries = useQueryClient();
  useEffect(() => {
    const abort = new AbortController();
    setEvents([]);
    setError(null);
    let refresh: ReturnType<typeof setTimeout> | undefined;
    const refetchRun = (): void => {
      // many events arrive together: read the run once for them
      clearTimeout(refresh);
      refresh = setTimeout(() => void queries.invalidateQueries({ queryKey: ['run', runId] }), 50);
    };
    void (async () => {
      try {
        const all: RunEvent[] = [];
        for (let after = 0; ;) {
          const page = await session.client.runs.events(runId, { after, limit: 1000 });
          all.push(...page.events);
          after = page.nextAfter;
          if (page.events.length < 1000) break;
        }
        if (abort.signal.aborted) return;
        setEvents(all);
        // the run view may have been read before these events (an action's refetch lands while its run moves on):
        // when the history already holds the run's end, the stream below brings nothing that would read it again
        refetchRun();
        const last = all.at(-1)?.seq ?? 0;
        let batch: RunEvent[] = [];
        let flush: ReturnType<typeof setTimeout> | undefined;
        for await (const event of session.client.runs.watch(runId, { after: last, signal: abort.signal })) {
          batch.push(event);
          clearTimeout(flush);
          flush = setTimeout(() => {
            const arrived = batch;
            batch = [];
            setEvents((current) => [...current, ...arrived.filter((e) => e.seq > (current.at(-1)?.seq ?? 0))]);
            refetchRun();
          }, 16);
        }
        // the stream ends with the run: read its final state once more
        if (!abort.signal.aborted) refetchRun();
      } catch (caught) {
        if (!abort.signal.aborted) setError(caught);
      }
    })();
    return () => {
      abort.abort();
      clearTimeout(refresh);
    };
  }, [session, runId, queries, generation]);
  return { events, error };
}

export function RunPage() {
  const session = useSession();
  const { runId } = route.useParams();
  const view = useQuery({
    queryKey: ['run', runId, session.role],
    queryFn: () => session.client.runs.get(runId),
    enabled: session.role !== 'anonymous' || !session.keysEnabled,
  });
  // an action (redrive, retry, resume…) can bring a terminal run back: read and follow its history again
  const [generation, setGeneration] = useState(0);
  const changed = (): void => setGeneration((g) => g + 1);
  const history = useRunHistory(session, runId, generation);
  const [now, setNow] = useState(() => Date.now());
  const run = view.data?.run;
  const live = run !== undefined && !TERMINAL.has(run.status);
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [live]);
  // a terminal run's timeline ends when the run ended: a wait it was in (cancelled while waiting) does not grow after
  const endedAt = run?.completedAt ? Date.parse(run.completedAt) : undefined;
  const timeline = useMemo(
    () =>
      view.data
        ? buildTimeline(runId, history.events, view.data.steps, live ? now : (endedAt ?? Date.now()), endedAt)
        : undefined,
    [runId, history.events, view.data, live, now, endedAt],
  );

  // a failed refresh (the API went away) keeps what was shown, under a notice; only a first read that failed is an error page
  if (view.error && !view.data) return <ErrorNotice error={view.error} />;
  if (!view.data || !run) return <p>Loading run…</p>;
  return (
    <section>
      <h1>
        Run <span className="mono">{runId}</span>
      </h1>
      <div className="run-head">
        <StatusBadge status={run.status} testId="run-status" />
        {run.paused && (
          <span className="badge paused" data-testid="paused">
            paused
          </span>
        )}
        <span>
          {run.workflowName}@{run.workflowVersion}
        </span>
        <span title={run.createdAt}>created {relativeTime(run.createdAt)}</span>
        {run.completedAt && (
          <span title={run.completedAt} data-testid="run-took">
            ended {relativeTime(run.completedAt)}, took{' '}
            {formatDuration(Date.parse(run.completedAt) - Date.parse(run.createdAt))}
          </span>
        )}
        <span>
          correlation{' '}
          <span className="mono" data-testid="correlation-id">
            {run.correlationId}
          </span>
        </span>
        {live && (
          <span className="live" aria-label="live">
            ● live
          </span>
        )}
      </div>
      {run.error && (
        <p className="error" data-testid="run-error">
          {run.error.code}
          {run.error.stepId ? ` at ${run.error.stepId}` : ''}: {run.error.message}
        </p>
      )}
      {view.error && (
        <p className="error" role="status" data-testid="refresh-error">
          Could not refresh this run ({view.error instanceof Error ? view.error.message : String(view.error)}); showing
          what was read last.
        </p>
      )}
      <RunActions view={view.data} onChanged={changed} />
      <ErrorNotice error={history.error} />
      {timeline && <TimelineView timeline={timeline} view={view.data} onChanged={changed} />}
      <JsonDetails title="Input" value={run.input} />
      <JsonDetails title="Context" value={run.context} />
      <JsonDetails title="Outputs" value={Object.fromEntries(view.data.steps.map((s) => [s.stepId, s.output]))} />
      <details className="json">
        <summary>History ({history.events.length} events)</summary>
        <ol className="events">
          {history.events.map((event) => (
            <li key={event.seq}>
              <span className="mono">#{event.seq}</span> {event.type} {event.stepId ?? ''} {event.kind ?? ''}{' '}
              <span className="dim">{new Date(event.at).toISOString()}</span>
            </li>
          ))}
        </ol>
      </details>
    </section>
  );
}

function RunActions({ view, onChanged }: { view: RunView; onChanged: () => void }) {
  const session = useSession();
  const queries = useQueryClient();
  const { run } = view;
  const runId = run.runId;
  const done = async (): Promise<void> => {
    onChanged();
    await queries.invalidateQueries({ queryKey: ['run', runId] });
  };
  const operator = can(session, 'operator');
  const terminal = TERMINAL.has(run.status);
  const [signalName, setSignalName] = useState('');
  const [payload, setPayload] = useState('');
  return (
    <div className="actions" role="group" aria-label="Run actions">
      {operator && (run.status === 'PENDING' || run.status === 'RUNNING') && (
        <ConfirmButton
          label="Cancel"
          title={`Cancel run ${runId}?`}
          onConfirm={() => session.client.runs.cancel(runId).then(done)}
        >
          <p>The steps that succeeded are compensated in reverse order.</p>
        </ConfirmButton>
      )}
      {operator && run.status === 'FAILED' && (
        <ConfirmButton
          label="Redrive"
          title={`Redrive run ${runId}?`}
          onConfirm={() => session.client.runs.redrive(runId, { reason: 'console' }).then(done)}
        >
          <p>Runs the failed step (or the failed compensation) again.</p>
        </ConfirmButton>
      )}
      {operator && !terminal && !run.paused && (
        <ConfirmButton
          label="Pause"
          title={`Pause run ${runId}?`}
          onConfirm={() => session.client.runs.pause(runId, { reason: 'console' }).then(done)}
        >
          <p>No new attempt starts until it is resumed; an attempt in flight finishes.</p>
        </ConfirmButton>
      )}
      {operator && run.paused && (
        <ConfirmButton
          label="Resume"
          title={`Resume run ${runId}?`}
          onConfirm={() => session.client.runs.resume(runId, { reason: 'console' }).then(done)}
        />
      )}
      {can(session, 'client') && !terminal && (
        <ConfirmButton
          label="Send signal"
          title="Send a signal"
          onConfirm={() =>
            session.client.runs
              .signal(runId, signalName, payload.trim() === '' ? undefined : (JSON.parse(payload) as unknown))
              .then(done)
          }
        >
          <label>
            Signal name
            <input value={signalName} onChange={(e) => setSignalName(e.target.value)} required />
          </label>
          <label>
            Payload (JSON)
            <textarea value={payload} onChange={(e) => setPayload(e.target.value)} rows={3} />
          </label>
        </ConfirmButton>
      )}
    </div>
  );
}

const pct = (t: number, timeline: Timeline): string =>
  `${(((t - timeline.start) / (timeline.end - timeline.start)) * 100).toFixed(3)}%`;
const width = (from: number, to: number, timeline: Timeline): string =>
  `max(2px, ${(((to - from) / (timeline.end - timeline.start)) * 100).toFixed(3)}%)`;

function TimelineView({ timeline, view, onChanged }: { timeline: Timeline; view: RunView; onChanged: () => void }) {
  return (
    <figure className="timeline" data-testid="timeline" aria-label="Timeline">
      <figcaption>
        Timeline: {formatDuration(timeline.end - timeline.start)} from the first event to the last
      </figcaption>
      {timeline.lanes.map((lane) => (
        <LaneRow key={lane.key} lane={lane} timeline={timeline} view={view} onChanged={onChanged} />
      ))}
    </figure>
  );
}

function LaneRow({
  lane,
  timeline,
  view,
  onChanged,
}: {
  lane: Lane;
  timeline: Timeline;
  view: RunView;
  onChanged: () => void;
}) {
  const session = useSession();
  const queries = useQueryClient();
  const step = view.steps.find((s) => s.stepId === lane.stepId);
  const failed = lane.kind === 'action' ? step?.status === 'FAILED' : step?.compensationStatus === 'FAILED';
  const retryable =
    failed &&
    can(session, 'operator') &&
    view.run.status === 'FAILED' &&
    (lane.kind === 'compensation' || view.run.error?.code !== 'COMPENSATION_FAILED');
  return (
    <div className={`lane lane-${lane.kind}`} data-testid="lane" data-step-id={lane.stepId} data-kind={lane.kind}>
      <div className="lane-label">
        <strong>{lane.stepId}</strong> <span className="dim">{lane.kind}</span>
        <div
          className="mono small idempotency-key"
          data-testid="idempotency-key"
          title={`X-Idempotency-Key: ${lane.idempotencyKey}`}
        >
          {lane.idempotencyKey}
        </div>
        {retryable && (
          <ConfirmButton
            label="Retry step"
            title={`Retry ${lane.stepId}?`}
            onConfirm={() =>
              session.client.runs
                .retryStep(view.run.runId, lane.stepId)
                .then(() => (onChanged(), queries.invalidateQueries({ queryKey: ['run', view.run.runId] })))
            }
          />
        )}
      </div>
      <div className="track">
        {lane.gaps.map((gap, i) => (
          <div
            key={`g${i}`}
            className={`gap gap-${gap.cause}`}
            data-testid="gap"
            data-cause={gap.cause}
            style={{ left: pct(gap.start, timeline), width: width(gap.start, gap.end, timeline) }}
            title={`${GAP_LABEL[gap.cause]} ${formatDuration(gap.end - gap.start)}${gap.open ? ' (so far)' : ''}`}
          >
            <span className="gap-label">{GAP_LABEL[gap.cause]}</span>
          </div>
        ))}
        {lane.bars.map((bar) => (
          <div
            key={`a${bar.attempt}-${bar.start}`}
            className={`bar outcome-${bar.outcome.toLowerCase()}`}
            data-testid="attempt"
            data-outcome={bar.outcome}
            data-http-status={bar.httpStatus ?? ''}
            style={{ left: pct(bar.start, timeline), width: width(bar.start, bar.end, timeline) }}
            title={`attempt ${bar.attempt}: ${bar.outcome}${bar.httpStatus ? ` HTTP ${bar.httpStatus}` : ''}, ${formatDuration(bar.durationMs)}${bar.error ? ` — ${bar.error}` : ''}`}
          >
            <span className="bar-label">
              {bar.httpStatus ?? ''} {formatDuration(bar.durationMs)}
            </span>
          </div>
        ))}
      </div>
      <LaneLog lane={lane} />
    </div>
  );
}

/**
 * The lane as text, in time order: each attempt with its outcome, HTTP status and duration, each gap with its cause
 * and length. The bars above are too narrow for their labels whenever short attempts sit among long waits; this line
 * is what a reader (and a screen reader, and a keyboard user) can always read.
 */
function LaneLog({ lane }: { lane: Lane }) {
  const items = [
    ...lane.bars.map((bar) => ({
      at: bar.start,
      key: `a${bar.attempt}-${bar.start}`,
      kind: 'attempt' as const,
      text: `#${bar.attempt} ${bar.outcome === 'RUNNING' ? 'running' : (bar.httpStatus ?? bar.outcome)} ${formatDuration(bar.durationMs)}`,
      outcome: bar.outcome,
    })),
    ...lane.gaps.map((gap, i) => ({
      at: gap.start,
      key: `g${i}`,
      kind: 'gap' as const,
      text: `${GAP_LABEL[gap.cause]} ${formatDuration(gap.end - gap.start)}${gap.open ? ' (so far)' : ''}`,
      outcome: gap.cause,
    })),
  ].sort((a, b) => a.at - b.at || (a.kind === 'gap' ? 1 : -1));
  if (items.length === 0) return null;
  return (
    <ol className="lane-log" data-testid="lane-log">
      {items.map((item) => (
        <li key={item.key} className={item.kind === 'gap' ? 'dim' : `log-${item.outcome.toLowerCase()}`}>
          {item.text}
        </li>
      ))}
    </ol>
  );
}
