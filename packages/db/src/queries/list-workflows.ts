import { compareVersions, latestVersion, type WorkflowDefinition } from '@sagaflow/definitions';
import { sql } from 'kysely';
import type { Db } from '../pool.js';

/** A registered workflow name with its versions (GET /v1/workflows, SPEC §13). */
export interface WorkflowSummary {
  name: string;
  latestVersion: string;
  /** every registered version, in semver order (lowest first) */
  versions: string[];
  /** the latest version's description, null when it has none */
  description: string | null;
  paused: boolean;
}

/** One registered version (GET /v1/workflows/{name}/versions/{version}). */
export interface RegisteredDefinition {
  /** the document as registered (no defaults filled in) */
  definition: WorkflowDefinition;
  /** sha-256 of the canonical definition, as stored at registration */
  sha256: string;
  registeredAt: string;
}

/** The workflow names that are paused (workflow_pauses, POST /v1/admin/workflows/{name}/pause). */
async function readPausedWorkflows(db: Db): Promise<ReadonlySet<string>> {
  const rows = await db.selectFrom('workflow_pauses').select('workflow_name').execute();
  return new Set(rows.map((row) => row.workflow_name));
}

/** Every registered workflow, by name, with its versions in semver order. */
export async function listWorkflows(db: Db): Promise<WorkflowSummary[]> {
  const rows = await db
    .selectFrom('workflow_definitions')
    .select(['name', 'version', sql<string | null>`definition ->> 'description'`.as('description')])
    .orderBy('name')
    .execute();
  const paused = await readPausedWorkflows(db);
  const byName = new Map<string, Map<string, string | null>>();
  for (const row of rows) {
    const versions = byName.get(row.name) ?? new Map<string, string | null>();
    versions.set(row.version, row.description);
    byName.set(row.name, versions);
  }
  return [...byName].map(([name, descriptions]) => {
    const versions = [...descriptions.keys()].sort((a, b) => compareVersions(a, b) || (a < b ? -1 : a > b ? 1 : 0));
    const latest = latestVersion(versions)!;
    return {
      name,
      latestVersion: latest,
      versions,
      description: descriptions.get(latest) ?? null,
      paused: paused.has(name),
    };
  });
}

/** A registered definition by name and exact version; undefined when there is none. */
export async function getRegisteredDefinition(
  db: Db,
  name: string,
  version: string,
): Promise<RegisteredDefinition | undefined> {
  const row = await db
    .selectFrom('workflow_definitions')
    .select(['definition', 'checksum', 'created_at'])
    .where('name', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return row
    ? {
        definition: row.definition as WorkflowDefinition,
        sha256: row.checksum,
        registeredAt: row.created_at.toISOString(),
      }
    : undefined;
}
