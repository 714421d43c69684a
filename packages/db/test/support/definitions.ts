import { parseWorkflowDefinition, type WorkflowDefinition } from '@sagaflow/definitions';
import { registerDefinition, type Db } from '../../src/index.js';

/** A definition document parsed as registration would; a document the schema refuses fails the test with its issues. */
export function definitionOf(doc: unknown): WorkflowDefinition {
  const parsed = parseWorkflowDefinition(doc);
  if (!parsed.success) throw new Error(JSON.stringify(parsed.issues));
  return parsed.data;
}

/** Parses and registers each document, in order. */
export async function registerDefinitions(db: Db, ...docs: unknown[]): Promise<void> {
  for (const doc of docs) await registerDefinition(db, definitionOf(doc));
}
