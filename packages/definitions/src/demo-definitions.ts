import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWorkflowDefinition } from './parse-definition.js';
import type { WorkflowDefinition } from './schema.js';

/** Absolute path of packages/definitions/workflows (the same from src/ and dist/). */
export const DEMO_DEFINITIONS_DIR: string = fileURLToPath(new URL('../workflows/', import.meta.url));

/**
 * Reads and validates every workflows/*.json, in file-name order.
 * @throws Error naming the file and its issues when one is not a valid definition.
 */
export function loadDemoDefinitions(): WorkflowDefinition[] {
  const files = readdirSync(DEMO_DEFINITIONS_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort();
  return files.map((file) => {
    const doc: unknown = JSON.parse(readFileSync(join(DEMO_DEFINITIONS_DIR, file), 'utf8'));
    const result = parseWorkflowDefinition(doc);
    if (!result.success) {
      const details = result.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new Error(`demo definition ${file} is invalid: ${details.join('; ')}`);
    }
    return result.data;
  });
}
