import { getDefinition, type Db } from '@sagaflow/db';
import type { WorkflowDefinition } from '@sagaflow/definitions';

/** Definitions are immutable once registered, so each name@version is read from Postgres once per process. */
export class DefinitionCache {
  private readonly entries = new Map<string, Promise<WorkflowDefinition | undefined>>();

  constructor(private readonly db: Db) {}

  get(name: string, version: string): Promise<WorkflowDefinition | undefined> {
    const key = `${name}@${version}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = getDefinition(this.db, name, version).then((d) => d?.definition);
      // a failed or missing lookup is not cached
      entry.then(
        (d) => d ?? this.entries.delete(key),
        () => this.entries.delete(key),
      );
      this.entries.set(key, entry);
    }
    return entry;
  }
}
