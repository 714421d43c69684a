import type { RunView, Step } from '@sagaflow/client';
import {
  colorStatus,
  formatDuration,
  formatRelative,
  formatTime,
  oneLineJson,
  renderTable,
  type Colors,
} from '../output.js';

function stepError(step: Step): string {
  const error = step.error;
  if (error === null || error === undefined) return '';
  if (typeof error === 'object' && 'message' in error && typeof error.message === 'string') {
    const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
    return `${code}${error.message}`;
  }
  return oneLineJson(error, 60);
}

function stepRow(colors: Colors, step: Step, now: number): string[] {
  const duration =
    step.startedAt && step.finishedAt ? formatDuration(Date.parse(step.finishedAt) - Date.parse(step.startedAt)) : '';
  const compensation =
    step.compensationStatus === 'NONE'
      ? colors.dim('NONE')
      : `${colorStatus(colors, step.compensationStatus)}${step.compensationAttempts > 0 ? ` ×${step.compensationAttempts}` : ''}`;
  return [
    step.stepId,
    colorStatus(colors, step.status),
    String(step.attempts),
    compensation,
    step.startedAt ? formatRelative(step.startedAt, now) : colors.dim('-'),
    duration,
    step.nextAttemptAt ? colors.yellow(formatRelative(step.nextAttemptAt, now)) : '',
    colors.red(stepError(step)),
  ];
}

/** `runs get`: the run's fields, then one row per step. */
export function renderRunView(colors: Colors, view: RunView, now = Date.now()): string {
  const { run } = view;
  const error = run.error
    ? colors.red(`${run.error.code}${run.error.stepId ? ` at ${run.error.stepId}` : ''}: ${run.error.message}`)
    : colors.dim('-');
  const fields: Array<[string, string]> = [
    ['Run', colors.bold(run.runId)],
    ['Workflow', `${run.workflowName}@${run.workflowVersion}`],
    ['Status', colorStatus(colors, run.status)],
    ['Error', error],
    ['Correlation', run.correlationId],
    ['Created', formatTime(colors, run.createdAt, now)],
    ['Updated', formatTime(colors, run.updatedAt, now)],
    ['Completed', formatTime(colors, run.completedAt, now)],
    ['Input', oneLineJson(run.input)],
    ['Context', oneLineJson(run.context)],
  ];
  const width = Math.max(...fields.map(([label]) => label.length)) + 2;
  const head = fields.map(([label, value]) => `${colors.dim(label.padEnd(width))}${value}`).join('\n');
  const steps = renderTable(
    colors,
    ['STEP', 'STATUS', 'ATTEMPTS', 'COMPENSATION', 'STARTED', 'TOOK', 'NEXT ATTEMPT', 'ERROR'],
    view.steps.map((step) => stepRow(colors, step, now)),
  );
  return `${head}\n\n${steps}`;
}
