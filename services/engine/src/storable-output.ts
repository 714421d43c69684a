import { findUnstorableJson, storableText } from '@sagaflow/db';

export interface BodyFacts {
  /** the body was cut at the output cap */
  truncated: boolean;
  contentType: string | undefined;
}

/**
 * A downstream's body as the step's output (docs/contract.md#downstream-requests): the parsed JSON when it is JSON that Postgres can store,
 * otherwise the text — invalid UTF-8 decoded as U+FFFD, NUL characters and lone surrogates replaced by U+FFFD —
 * so whatever comes back can be committed. An empty body is null. Pure.
 */
export function storableOutput(body: Buffer, facts: BodyFacts): unknown {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  if (!facts.truncated && (facts.contentType?.includes('json') ?? true)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (findUnstorableJson(parsed) === undefined) return parsed;
    } catch {
      // not JSON: kept as text
    }
  }
  return storableText(text);
}
