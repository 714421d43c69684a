import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printFigures } from '../src/figures/figures.js';
import { mutations, namesProblem, validDefinition } from '../src/fuzz/definition-arbitraries.js';
import { closeRawConnections, sendRaw, type RawResponse } from '../src/fuzz/raw-request.js';
import { readTableState } from '../src/fuzz/row-counts.js';
import type { ApiProcess } from '../src/processes/api-process.js';
import { readSeed } from '../src/random.js';
import { ADMIN_TOKEN, createScenario, type Scenario } from '../src/scenario.js';

const CASES = 1_200;

interface Failure {
  kind: string;
  reason: string;
  example: string;
}

function parse(response: RawResponse): Record<string, unknown> {
  try {
    return JSON.parse(response.text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The value at a path of a document (undefined when the path does not exist). */
function valueAt(doc: unknown, path: ReadonlyArray<string | number>): unknown {
  return path.reduce<unknown>(
    (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined),
    doc,
  );
}

/**
 * Generated workflow definitions through `POST /v1/admin/workflows` on an API child process. A valid one
 * must round-trip: 201, then 200 for the identical document, and the stored document equals what was sent.
 * An invalid one (a valid one with exactly one rule broken) must get a 400 whose issues point at the broken
 * field (or whose message names the problem), and write nothing.
 */
describe('definition registration fuzzing', () => {
  const seed = readSeed();
  let scenario: Scenario;
  let api: ApiProcess;

  beforeAll(async () => {
    scenario = await createScenario();
    api = await scenario.startApi({ ADMIN_RATE_LIMIT_MAX: '1000000' });
  });
  afterAll(async () => {
    closeRawConnections();
    await scenario?.close();
  });

  it(
    `registers ${CASES} generated definitions: valid ones round-trip, invalid ones are refused with the reason`,
    { timeout: 240_000 },
    async () => {
      const started = Date.now();
      let serial = 0;
      const cases = fc.sample(
        fc.record({ doc: validDefinition(() => `n${++serial}`), mutate: fc.boolean(), pick: fc.nat() }),
        { numRuns: CASES, seed },
      );
      const failures: Failure[] = [];
      const tally = { valid: 0, invalid: 0 };
      const register = (doc: unknown): Promise<RawResponse> =>
        sendRaw(api.url, {
          method: 'POST',
          path: '/v1/admin/workflows',
          headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN },
          body: JSON.stringify(doc),
        });

      for (const { doc, mutate, pick } of cases) {
        const sent = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
        const fail = (kind: string, reason: string): void =>
          void failures.push({ kind, reason, example: JSON.stringify(sent).slice(0, 300) });
        if (!mutate) {
          tally.valid++;
          const first = await register(sent);
          if (first.status !== 201) {
            fail('valid', `first registration answered ${first.status}: ${first.text.slice(0, 200)}`);
            continue;
          }
          const again = await register(sent);
          if (again.status !== 200 || parse(again)['created'] !== false)
            fail('valid', `identical registration answered ${again.status}: ${again.text.slice(0, 200)}`);
          const stored = await scenario.db
            .selectFrom('workflow_definitions')
            .select('definition')
            .where('name', '=', String(sent['name']))
            .where('version', '=', String(sent['version']))
            .executeTakeFirst();
          if (!isDeepStrictEqual(stored?.definition, sent))
            fail('valid', `stored document differs: ${JSON.stringify(stored?.definition).slice(0, 200)}`);
          continue;
        }
        tally.invalid++;
        const options = mutations(doc.steps.length);
        const mutation = options[pick % options.length]!;
        const broken = structuredClone(sent) as typeof doc;
        mutation.apply(broken);
        const before = await readTableState(scenario.db);
        const response = await register(broken);
        const body = parse(response);
        const kind = `invalid: ${mutation.name}`;
        const changed = `${JSON.stringify(mutation.path)} = ${String(JSON.stringify(valueAt(broken, mutation.path))).slice(0, 120)}`;
        const failInvalid = (reason: string): void => void failures.push({ kind, reason, example: changed });
        if (response.status !== 400 || body['code'] !== 'BAD_REQUEST')
          failInvalid(`answered ${response.status}: ${response.text.slice(0, 200)}`);
        else if (!namesProblem(body, mutation))
          failInvalid(`400 does not name ${JSON.stringify(mutation.path)}: ${response.text.slice(0, 300)}`);
        if ((await readTableState(scenario.db)).digest !== before.digest)
          failInvalid('a refused definition wrote rows');
      }

      printFigures({
        scenario: 'definition registration fuzz',
        runs: 0,
        cases: CASES,
        drainSeconds: (Date.now() - started) / 1000,
        redeliveries: 0,
        duplicatesPrevented: 0,
        lostRuns: 0,
        violations: failures.length,
        duplicateEffects: 0,
        extra: { valid: tally.valid, invalid: tally.invalid, seed },
      });
      const grouped = new Map<string, Failure[]>();
      for (const failure of failures) grouped.set(failure.kind, [...(grouped.get(failure.kind) ?? []), failure]);
      const summary = [...grouped.entries()]
        .map(([kind, list]) => `${list.length}× ${kind}: ${list[0]!.reason}\n    sent: ${list[0]!.example}`)
        .join('\n');
      expect(failures.length, `fuzz seed ${seed}; failures:\n${summary}`).toBe(0);
      expect(tally.valid).toBeGreaterThanOrEqual(CASES / 3);
      expect(tally.invalid).toBeGreaterThanOrEqual(CASES / 3);
    },
  );
});
