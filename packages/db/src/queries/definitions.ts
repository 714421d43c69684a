import { definitionChecksum, latestVersion, type WorkflowDefinition } from '@sagaflow/definitions';
import { ConflictError } from '../errors.js';
import type { Db } from '../pool.js';

export interface StoredDefinition {
  name: string;
  version: string;
  definition: WorkflowDefinition;
}

/** Registers a definition. The identical document again is a no-op; a different one under the same name+version is a conflict. */
export async function registerDefinition(db: Db, definition: WorkflowDefinition): Promise<{ created: boolean }> {
  const checksum = definitionChecksum(definition);
  const inserted = await db
    .insertInto('workflow_definitions')
    .values({ name: definition.name, version: definition.version, definition: JSON.stringify(definition), checksum })
    .onConflict((oc) => oc.columns(['name', 'version']).doNothing())
    .returning('name')
    .executeTakeFirst();
  if (inserted) return { created: true };
  const existing = await db
    .selectFrom('workflow_definitions')
    .select('checksum')
    .where('name', '=', definition.name)
    .where('version', '=', definition.version)
    .executeTakeFirstOrThrow();
  if (existing.checksum !== checksum) {
    throw new ConflictError(
      `workflow ${definition.name}@${definition.version} is already registered with a different definition; register a new version`,
    );
  }
  return { created: false };
}

/** A definition by name and version, or the highest semver version when `version` is omitted. */
export async function getDefinition(db: Db, name: string, version?: string): Promise<StoredDefinition | undefined> {
  let chosen = version;
  if (chosen === undefined) {
    const rows = await db.selectFrom('workflow_definitions').select('version').where('name', '=', name).execute();
    chosen = latestVersion(rows.map((r) => r.version));
    if (chosen === undefined) return undefined;
  }
  const row = await db
    .selectFrom('workflow_definitions')
    .select(['name', 'version', 'definition'])
    .where('name', '=', name)
    .where('version', '=', chosen)
    .executeTakeFirst();
  return row ? { name: row.name, version: row.version, definition: row.definition as WorkflowDefinition } : undefined;
}
