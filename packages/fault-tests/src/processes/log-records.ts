import type { ServiceProcess } from '@sagaflow/testkit';

/** A child's pino lines as objects (non-JSON lines are skipped). */
export function readLogRecords(child: ServiceProcess): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  for (const line of child.lines()) {
    if (!line.startsWith('{')) continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line: not a log record
    }
  }
  return records;
}

/** How many of a child's log records have a message containing `text`. */
export function countLogMessages(child: ServiceProcess, text: string): number {
  return readLogRecords(child).filter((r) => typeof r['msg'] === 'string' && r['msg'].includes(text)).length;
}
