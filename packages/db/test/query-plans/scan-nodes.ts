import type pg from 'pg';
import type { SentStatement } from './record-statements.js';

/** A node of a plan that reads a table: how (Seq Scan, Index Scan, ...), which table, through which index. */
export interface TableScan {
  nodeType: string;
  relation: string;
  index: string | undefined;
}

/** A node of a plan in EXPLAIN's JSON; the Actual fields only when the statement ran (EXPLAIN ANALYZE). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** Statements that read or write tables (transaction control, SET and the like are not planned). */
export function isPlannable(statement: SentStatement): boolean {
  return /^\s*(with|select|insert|update|delete)\b/i.test(statement.text);
}

/** The table reads of a statement's plan, as Postgres plans it with the values it was sent with. */
export async function explainScans(client: pg.Client, statement: SentStatement): Promise<TableScan[]> {
  const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
    text: `explain (format json) ${statement.text}`,
    values: statement.values,
  });
  const scans: TableScan[] = [];
  const visit = (node: PlanNode): void => {
    // ModifyTable nodes (Update on outbox, ...) name a relation too, but read nothing themselves
    if (node['Relation Name'] !== undefined && node['Node Type'].endsWith('Scan')) {
      scans.push({ nodeType: node['Node Type'], relation: node['Relation Name'], index: node['Index Name'] });
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  for (const entry of rows[0]!['QUERY PLAN']) visit(entry.Plan);
  return scans;
}

/** Every scan of `relation` in an executed plan, with the rows it read (returned and filtered out, over its loops). */
export function executedScans(
  plan: PlanNode,
  relation: string,
): Array<{ node: string; index: string | undefined; read: number }> {
  const found: Array<{ node: string; index: string | undefined; read: number }> = [];
  const visit = (node: PlanNode): void => {
    if (node['Relation Name'] === relation && node['Node Type'].endsWith('Scan')) {
      const rows = (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0);
      found.push({ node: node['Node Type'], index: node['Index Name'], read: rows * (node['Actual Loops'] ?? 1) });
    }
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(plan);
  return found;
}
