import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * The API and the engine keep identical copies of their observability building blocks (unit-tested in
 * services/engine/test/observability-*.test.ts). Until they move to a shared package, this keeps them in step.
 */
const SHARED = ['log-redaction.ts', 'logger.ts', 'tracing.ts', 'trace-context.ts', 'database-gauges.ts'];

describe('observability modules shared with the engine', () => {
  it.each(SHARED)('src/%s is the same file in services/api and services/engine', (file) => {
    const api = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
    const engine = readFileSync(new URL(`../../engine/src/${file}`, import.meta.url), 'utf8');
    expect(api).toBe(engine);
  });
});
