import type { RunEvent } from '@sagaflow/client';
import { colorStatus, formatDuration, oneLineJson, type Colors } from '../output.js';

const TYPE_WIDTH = 'RUN_STATUS_CHANGED'.length;

const str = (value: unknown): string => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

function errorText(value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value) {
    const code = 'code' in value ? `${str(value.code)}: ` : '';
    return `${code}${str(value.message)}`;
  }
  return value === null || value === undefined ? '' : oneLineJson(value, 80);
}

/** What the event is about: `charge-payment action #2`. */
function subject(event: RunEvent): string {
  if (event.stepId === null) return '';
  const kind = event.kind ?? '';
  const attempt = event.attempt !== null ? ` #${event.attempt}` : '';
  return `${event.stepId}${kind ? ` ${kind}` : ''}${attempt}`;
}

/** The type-specific part of a timeline line (SPEC §12's `data` of each type). */
function details(colors: Colors, event: RunEvent): string {
  const data = event.data;
  switch (event.type) {
    case 'RUN_CREATED':
      return `${str(data.workflowName)}@${str(data.workflowVersion)} ${colors.dim(`correlation ${str(data.correlationId)}`)}`;
    case 'RUN_STATUS_CHANGED': {
      const error = errorText(data.error);
      return `${colorStatus(colors, str(data.from))} → ${colorStatus(colors, str(data.to))}${error ? `  ${colors.red(error)}` : ''}`;
    }
    case 'ATTEMPT_FINISHED': {
      const parts = [colorStatus(colors, str(data.outcome))];
      if (typeof data.httpStatus === 'number') parts.push(`HTTP ${data.httpStatus}`);
      if (typeof data.durationMs === 'number') parts.push(formatDuration(data.durationMs));
      const error = errorText(data.error);
      if (error) parts.push(colors.red(error));
      if (typeof data.nextAttemptAt === 'string') {
        // the backoff, or the downstream's Retry-After, until the next attempt (SPEC §12 nextAttemptAt)
        const wait = Date.parse(data.nextAttemptAt) - Date.parse(event.at);
        parts.push(colors.yellow(`next attempt in ${formatDuration(wait)}`));
      }
      return parts.join('  ');
    }
    case 'DELIVERY_PARKED':
      return colors.red(`parked after ${str(data.deliveries)} deliveries`);
    case 'CANCEL_REQUESTED':
      return data.reason ? `reason: ${str(data.reason)}` : '';
    case 'OPERATOR_ACTION':
      return [
        str(data.action),
        data.reason ? `reason: ${str(data.reason)}` : '',
        data.operationId ? `operation ${str(data.operationId)}` : '',
      ]
        .filter(Boolean)
        .join('  ');
    case 'STEP_WAITING':
      return `waiting for ${str(data.waitFor)}${data.until ? ` until ${str(data.until)}` : ''}`;
    case 'SIGNAL_RECEIVED':
      return `signal ${str(data.name)} ${colors.dim(str(data.signalId))}`;
    case 'STEP_WOKEN':
      return `woken by ${str(data.cause)}`;
    default:
      return oneLineJson(data, 80);
  }
}

function clock(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * One line of the timeline (`runs events`): local clock time, time since the first event shown, seq, type, step
 * and the details of the type.
 */
export function renderEventLine(colors: Colors, event: RunEvent, firstAt: string): string {
  const offset = `+${formatDuration(Date.parse(event.at) - Date.parse(firstAt))}`;
  const about = subject(event);
  return [
    colors.dim(clock(event.at)),
    colors.dim(offset.padStart(8)),
    colors.dim(`#${event.seq}`.padStart(4)),
    colors.bold(event.type.padEnd(TYPE_WIDTH)),
    about ? colors.cyan(about) : '',
    details(colors, event),
  ]
    .filter((part) => part !== '')
    .join('  ');
}
