import type { WorkflowDefinition } from '@sagaflow/definitions';
import { definitionOf } from '../support/definitions.js';

/** The plan tests' workflow: three steps, each with a compensation, pointing at a port nothing listens on. */
export function threeStepSaga(name: string): WorkflowDefinition {
  return definitionOf({
    name,
    version: '1.0.0',
    steps: ['a', 'b', 'c'].map((id) => ({
      id,
      request: { method: 'POST', url: `http://127.0.0.1:9/${id}` },
      compensation: { id: `undo-${id}`, request: { method: 'POST', url: `http://127.0.0.1:9/undo-${id}` } },
    })),
  });
}
