import type { Operation } from '@sagaflow/client';
import { formatTime, renderTable, type Colors } from '../output.js';

/** RUNNING blue, COMPLETED green, CANCELLED magenta. */
export function colorOperationStatus(colors: Colors, status: Operation['status']): string {
  if (status === 'COMPLETED') return colors.green(status);
  if (status === 'CANCELLED') return colors.magenta(status);
  return colors.cyan(status);
}

/** `42/100 done (40 succeeded, 1 skipped, 1 failed)`: how far an operation is. */
export function progressText(operation: Operation): string {
  const done = operation.succeeded + operation.skipped + operation.failed;
  const percent = operation.total === 0 ? 100 : Math.floor((done / operation.total) * 100);
  return `${done}/${operation.total} (${percent}%): ${operation.succeeded} succeeded, ${operation.skipped} skipped, ${operation.failed} failed`;
}

/** `[██████░░░░░░]`: the share of the operation's runs done, for the live progress line of `ops create`. */
export function progressBar(operation: Operation, width = 24): string {
  const done = operation.succeeded + operation.skipped + operation.failed;
  const filled = operation.total === 0 ? width : Math.round((done / operation.total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** One operation in full: its fields, progress and the first failures. */
export function renderOperation(colors: Colors, operation: Operation): string {
  const lines = [
    `${colors.bold('operation')}  ${operation.operationId}`,
    `${colors.bold('action')}     ${operation.action}`,
    `${colors.bold('status')}     ${colorOperationStatus(colors, operation.status)}`,
    `${colors.bold('progress')}   ${progressText(operation)}`,
    `${colors.bold('rate')}       ${operation.ratePerSecond}/s`,
    `${colors.bold('filter')}     ${JSON.stringify(operation.filter)}`,
    `${colors.bold('reason')}     ${operation.reason ?? colors.dim('-')}`,
    `${colors.bold('created')}    ${formatTime(colors, operation.createdAt)}`,
    `${colors.bold('finished')}   ${formatTime(colors, operation.finishedAt)}`,
  ];
  if (operation.errors.length > 0) {
    lines.push('', colors.bold('failures'));
    lines.push(
      renderTable(
        colors,
        ['RUN', 'REASON'],
        operation.errors.map((error) => [error.runId, colors.red(error.reason)]),
      ),
    );
  }
  return lines.join('\n');
}
