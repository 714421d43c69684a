import type { Schedule } from '@sagaflow/client';
import { formatRelative, formatTime, type Colors } from '../output.js';

/** A schedule's row of `schedules list`. */
export function scheduleRow(colors: Colors, schedule: Schedule, now = Date.now()): string[] {
  return [
    schedule.id,
    `${schedule.workflowName}${schedule.version ? `@${schedule.version}` : ''}`,
    schedule.cron,
    schedule.timezone,
    schedule.paused ? colors.yellow('paused') : colors.dim('no'),
    schedule.nextFireAt ? formatRelative(schedule.nextFireAt, now) : colors.dim('-'),
    schedule.lastFireAt ? colors.dim(formatRelative(schedule.lastFireAt, now)) : colors.dim('-'),
  ];
}

export const SCHEDULE_HEAD = ['SCHEDULE', 'WORKFLOW', 'CRON', 'TIMEZONE', 'PAUSED', 'NEXT', 'LAST'];

/** One schedule in full. */
export function renderSchedule(colors: Colors, schedule: Schedule): string {
  const field = (name: string, value: string): string => `${colors.bold(name.padEnd(10))} ${value}`;
  return [
    field('schedule', schedule.id),
    field('workflow', `${schedule.workflowName}@${schedule.version ?? colors.dim('latest')}`),
    field('cron', `${schedule.cron} ${colors.dim(`(${schedule.timezone})`)}`),
    field('overlap', schedule.overlap),
    field('paused', schedule.paused ? colors.yellow('yes') : 'no'),
    field('next', formatTime(colors, schedule.nextFireAt)),
    field(
      'last',
      `${formatTime(colors, schedule.lastFireAt)}${schedule.lastRunId ? `  run ${schedule.lastRunId}` : ''}`,
    ),
    field('skipped', String(schedule.skippedCount)),
    field('missed', String(schedule.missedCount)),
    field('input', JSON.stringify(schedule.input)),
    field('context', JSON.stringify(schedule.context)),
  ].join('\n');
}
