import { latestVersion, type WorkflowDefinition } from '@sagaflow/definitions';
import type { Db } from '../pool.js';
import type { StoredDefinition } from './definitions.js';

interface Entry {
  /** every version of the name as last read, with its (immutable) definition */
  definitions: Map<string, WorkflowDefinition>;
  latest: string | undefined;
}

/**
 * The definitions of each workflow name, read once per process. A definition never changes once registered, so a
 * name@version is cached for good; what can change is the set of versions (a newer one registered, maybe through another
 * API instance). startRun therefore sends the versions it knew along with the start and refuses to insert when Postgres
 * holds one it did not: the catalog then re-reads the name and the start is tried again. So "the highest version" is
 * always the highest registered when the run was inserted, at the cost of no extra statement per start.
 */
export class DefinitionCatalog {
  private readonly names = new Map<string, Promise<Entry>>();

  constructor(private readonly db: Db) {}

  /** The known versions of a name and the chosen definition (undefined when no such version is registered). */
  async resolve(
    name: string,
    version: string | undefined,
    fresh = false,
  ): Promise<{ versions: string[]; stored: StoredDefinition | undefined }> {
    let entry = await this.entry(name, fresh);
    // an explicit version this process has not seen may have been registered since
    if (version !== undefined && !entry.definitions.has(version) && !fresh) entry = await this.entry(name, true);
    const chosen = version ?? entry.latest;
    const definition = chosen === undefined ? undefined : entry.definitions.get(chosen);
    return {
      versions: [...entry.definitions.keys()],
      stored: chosen && definition ? { name, version: chosen, definition } : undefined,
    };
  }

  private entry(name: string, fresh: boolean): Promise<Entry> {
    let entry = fresh ? undefined : this.names.get(name);
    if (!entry) {
      entry = this.load(name);
      this.names.set(name, entry);
      // a failed read is not kept
      entry.catch(() => this.names.get(name) === entry && this.names.delete(name));
    }
    return entry;
  }

  private async load(name: string): Promise<Entry> {
    const rows = await this.db
      .selectFrom('workflow_definitions')
      .select(['version', 'definition'])
      .where('name', '=', name)
      .execute();
    const definitions = new Map(rows.map((r) => [r.version, r.definition as WorkflowDefinition]));
    return { definitions, latest: latestVersion([...definitions.keys()]) };
  }
}
