import { readLogRecords, type ServiceProcess } from '@sagaflow/testkit';

export { readLogRecords };

/** How many of a child's log records have a message containing `text`. */
export function countLogMessages(child: ServiceProcess, text: string): number {
  return readLogRecords(child).filter((r) => typeof r['msg'] === 'string' && r['msg'].includes(text)).length;
}
