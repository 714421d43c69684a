import { completeItems, GroupCommitter, type CompletionOutcome, type CompletionRequest, type Db } from '@sagaflow/db';

/**
 * Group commit of completions: attempts that finish while a batch is being committed share the next statement and
 * commit (one item per run per batch). Each item stays fenced and guarded on its own (completeItems): a lost lease fails
 * that item alone.
 */
export class CompletionBatcher {
  private readonly committer: GroupCommitter<CompletionRequest, CompletionOutcome>;

  constructor(db: Db, maxBatch = 64) {
    this.committer = new GroupCommitter({ commit: (batch) => completeItems(db, batch), key: (r) => r.item.runId, maxBatch });
  }

  complete(request: CompletionRequest): Promise<CompletionOutcome> {
    return this.committer.submit(request);
  }
}
