import fc from 'fast-check';
import { describeHeaderValueProblem } from '@sagaflow/definitions';

/**
 * Workflow definitions for registration fuzzing: documents valid by docs/contract.md#definitions (names, semver, 1–6 steps,
 * either url or service+path, headers, JSON bodies with templates that only read earlier steps, retry
 * policies, compensations), and mutations that break exactly one rule at a known path.
 */

type Doc = Record<string, unknown> & { steps: Array<Record<string, unknown>> };

const TEMPLATE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] as const;

const texts = new Map<number, fc.Arbitrary<string>>();
/** Unicode text Postgres can store (no NUL, no lone surrogates: 'grapheme' never makes them). Built once per length. */
function text(maxLength: number): fc.Arbitrary<string> {
  let arbitrary = texts.get(maxLength);
  if (!arbitrary) texts.set(maxLength, (arbitrary = fc.string({ unit: 'grapheme', maxLength })));
  return arbitrary;
}

/** What a header value can carry (the registration rule): tab, visible ASCII and Latin-1. */
const headerValue = fc
  .string({
    unit: fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09))
      .map((code) => String.fromCharCode(code)),
    maxLength: 20,
  })
  .filter((v) => describeHeaderValueProblem(v) === undefined);

const slug = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);

const semver = fc
  .tuple(
    fc.nat(999),
    fc.nat(999),
    fc.nat(999),
    fc.option(fc.stringMatching(/^(alpha|beta|rc)(\.(0|[1-9][0-9]{0,2}))?$/)),
    fc.option(fc.stringMatching(/^[0-9a-z]{1,8}$/)),
  )
  .map(
    ([major, minor, patch, pre, build]) =>
      `${major}.${minor}.${patch}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`,
  );

const retry = fc.record(
  {
    maxAttempts: fc.integer({ min: 1, max: 100 }),
    initialIntervalMs: fc.integer({ min: 0, max: 3_600_000 }),
    backoffCoefficient: fc.double({ min: 1, max: 10, noNaN: true }),
    maxIntervalMs: fc.integer({ min: 0, max: 86_400_000 }),
    jitter: fc.constantFrom('full', 'equal', 'none'),
  },
  { requiredKeys: [] },
);

/** A template that step code may read: input, context, run fields, and the outputs of `readable` steps. */
function templateFor(readable: readonly string[], suffix: fc.Arbitrary<string> = text(8)): fc.Arbitrary<string> {
  const roots: Array<fc.Arbitrary<string>> = [
    fc.constantFrom(
      '{{input.orderId}}',
      '{{context.tenant}}',
      '{{run.runId}}',
      '{{run.workflowName}}',
      '{{run.workflowVersion}}',
    ),
  ];
  if (readable.length > 0) roots.push(fc.constantFrom(...readable).map((id) => `{{steps.${id}.output.value}}`));
  return fc
    .tuple(fc.oneof(...roots), suffix)
    .map(([template, tail]) => (tail === '' ? template : `${template}-${tail}`));
}

/** JSON bodies with unicode, edge numbers, nesting and templates. */
function body(earlierStepIds: readonly string[]): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      text(30),
      templateFor(earlierStepIds),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      // (__proto__ and constructor keys are refused by the API's JSON parser: the HTTP fuzzer covers them)
      fc.dictionary(
        fc
          .oneof(text(10), fc.constantFrom('prototype', 'toString', 'hasOwnProperty', ''))
          .filter((key) => key !== '__proto__' && key !== 'constructor'),
        tie('value'),
        {
          maxKeys: 3,
        },
      ),
    ),
  })).value;
}

function request(earlierStepIds: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const target = fc.oneof(
    fc
      .tuple(fc.nat(65_535), templateFor(earlierStepIds, fc.stringMatching(/^[a-z0-9]{0,6}$/)))
      .map(([port, t]) => ({ url: `http://127.0.0.1:${port}/x/${encodeURIComponent('ü')}?q=${t}` })),
    fc.tuple(slug, fc.stringMatching(/^(\/[a-z0-9_.-]{1,8}){1,3}\/?$/)).map(([service, path]) => ({ service, path })),
  );
  const headers = fc.dictionary(
    fc.stringMatching(/^x-[a-z0-9-]{1,12}$/),
    fc.oneof(headerValue, templateFor(earlierStepIds, headerValue)),
    { maxKeys: 3 },
  );
  return fc
    .record({
      method: fc.constantFrom(...TEMPLATE_METHODS),
      target,
      headers: fc.option(headers),
      body: fc.option(body(earlierStepIds)),
    })
    .map(({ method, target: t, headers: h, body: b }) => ({
      method,
      ...t,
      ...(h ? { headers: h } : {}),
      ...(b !== null && method !== 'GET' ? { body: b } : {}),
    }));
}

/** A valid definition; `name` is suffixed with `unique` so every generated document registers anew. */
export function validDefinition(unique: () => string): fc.Arbitrary<Doc> {
  // the arbitraries are built once per step count (building them per value would dominate the run time)
  const byCount = [1, 2, 3, 4, 5, 6].map((count) => definitionWithSteps(count, unique));
  return fc.integer({ min: 0, max: byCount.length - 1 }).chain((i) => byCount[i]!);
}

function definitionWithSteps(count: number, unique: () => string): fc.Arbitrary<Doc> {
  const ids = Array.from({ length: count }, (_, i) => `s${i}`);
  const steps = ids.map((id, i) =>
    fc
      .record({
        request: request(ids.slice(0, i)),
        timeoutMs: fc.option(fc.integer({ min: 1, max: 300_000 })),
        retry: fc.option(retry),
        compensation: fc.option(fc.record({ request: request(ids.slice(0, i + 1)), retry: fc.option(retry) })),
      })
      .map(({ request: r, timeoutMs, retry: policy, compensation }) => ({
        id,
        request: r,
        ...(timeoutMs === null ? {} : { timeoutMs }),
        ...(policy === null ? {} : { retry: policy }),
        ...(compensation === null
          ? {}
          : {
              compensation: {
                id: `undo-${id}`,
                request: compensation.request,
                ...(compensation.retry ? { retry: compensation.retry } : {}),
              },
            }),
      })),
  );
  return fc
    .record({ name: slug, version: semver, description: fc.option(text(200)), steps: fc.tuple(...steps) })
    .map(({ name, version, description, steps: list }) => ({
      name: `${name}-${unique()}`.slice(-63).replace(/^-+/, 'x'),
      version,
      ...(description === null ? {} : { description }),
      steps: [...list],
    }));
}

/** One broken rule: what to change, and where the API's 400 must point (a path prefix, or words in the message). */
export interface Mutation {
  name: string;
  apply(doc: Doc): void;
  /** the path an issue must name (the issue's path starts with it) */
  path: Array<string | number>;
  /** or: what the message (or an issue's message) may say instead */
  message?: RegExp;
}

const stepAt = (doc: Doc, i: number): Record<string, unknown> => doc.steps[i]!;
const requestOf = (doc: Doc, i: number): Record<string, unknown> =>
  stepAt(doc, i)['request'] as Record<string, unknown>;

/** Mutations for a document with `steps` steps (some need two or more). */
export function mutations(steps: number): Mutation[] {
  const i = steps - 1;
  const list: Mutation[] = [
    { name: 'bad name', apply: (d) => void (d['name'] = 'Bad_Name'), path: ['name'] },
    { name: 'bad version', apply: (d) => void (d['version'] = '1.0'), path: ['version'] },
    { name: 'no steps', apply: (d) => void (d.steps = []), path: ['steps'] },
    {
      name: '51 steps',
      apply: (d) =>
        void (d.steps = Array.from({ length: 51 }, (_, n) => ({
          id: `t${n}`,
          request: { method: 'GET', url: 'http://127.0.0.1:9/' },
        }))),
      path: ['steps'],
    },
    { name: 'bad step id', apply: (d) => void (stepAt(d, i)['id'] = 'UPPER'), path: ['steps', i, 'id'] },
    {
      name: 'bad method',
      apply: (d) => void (requestOf(d, i)['method'] = 'FETCH'),
      path: ['steps', i, 'request', 'method'],
    },
    { name: 'zero timeout', apply: (d) => void (stepAt(d, i)['timeoutMs'] = 0), path: ['steps', i, 'timeoutMs'] },
    {
      name: 'fractional timeout',
      apply: (d) => void (stepAt(d, i)['timeoutMs'] = 1.5),
      path: ['steps', i, 'timeoutMs'],
    },
    { name: 'string timeout', apply: (d) => void (stepAt(d, i)['timeoutMs'] = '100'), path: ['steps', i, 'timeoutMs'] },
    {
      name: 'zero attempts',
      apply: (d) => void (stepAt(d, i)['retry'] = { maxAttempts: 0 }),
      path: ['steps', i, 'retry', 'maxAttempts'],
    },
    {
      name: 'unknown jitter',
      apply: (d) => void (stepAt(d, i)['retry'] = { jitter: 'random' }),
      path: ['steps', i, 'retry', 'jitter'],
    },
    { name: 'unknown field', apply: (d) => void (stepAt(d, i)['onFailure'] = 'ignore'), path: ['steps', i] },
    {
      name: 'unknown template root',
      apply: (d) => void Object.assign(requestOf(d, i), { method: 'POST', body: { secret: '{{env.DATABASE_URL}}' } }),
      path: ['steps', i, 'request', 'body'],
    },
    {
      name: 'unknown step reference',
      apply: (d) => void Object.assign(requestOf(d, i), { method: 'POST', body: { x: '{{steps.ghost.output.x}}' } }),
      path: ['steps', i, 'request', 'body'],
    },
    {
      name: 'reserved header',
      apply: (d) => void (requestOf(d, i)['headers'] = { 'X-Idempotency-Key': 'mine' }),
      path: ['steps', i, 'request', 'headers'],
    },
    {
      name: 'header with CRLF',
      apply: (d) => void (requestOf(d, i)['headers'] = { 'x-evil': 'a\r\nset-cookie: x' }),
      path: ['steps', i, 'request', 'headers'],
    },
    {
      name: 'header outside Latin-1',
      apply: (d) => void (requestOf(d, i)['headers'] = { 'x-snow': 'snow \u2603' }),
      path: ['steps', i, 'request', 'headers'],
    },
    {
      name: 'cloud metadata address',
      apply: (d) => void replaceTarget(requestOf(d, i), { url: 'http://169.254.169.254/latest/meta-data' }),
      path: ['steps', i, 'request'],
      message: /link-local or cloud metadata/,
    },
    {
      name: 'url with credentials',
      apply: (d) => void replaceTarget(requestOf(d, i), { url: 'http://user:secret@127.0.0.1:9/x' }),
      path: ['steps', i, 'request', 'url'],
    },
    {
      name: 'url and service',
      apply: (d) =>
        void Object.assign(requestOf(d, i), { url: 'http://127.0.0.1:9/x', service: 'payments', path: '/x' }),
      path: ['steps', i, 'request'],
    },
    {
      name: 'relative url',
      apply: (d) => void replaceTarget(requestOf(d, i), { url: '/relative' }),
      path: ['steps', i, 'request', 'url'],
    },
    {
      name: 'GET with a body',
      apply: (d) => void Object.assign(requestOf(d, i), { method: 'GET', body: { a: 1 } }),
      path: ['steps', i, 'request', 'body'],
    },
    { name: 'description too long', apply: (d) => void (d['description'] = 'd'.repeat(2_001)), path: ['description'] },
    { name: 'NUL in description', apply: (d) => void (d['description'] = 'a\u0000b'), path: [], message: /NUL/ },
    {
      name: 'lone surrogate in description',
      apply: (d) => void (d['description'] = 'a\ud800b'),
      path: ['description'],
      message: /surrogate|unicode/i,
    },
    {
      name: 'compensation id is a step id',
      apply: (d) =>
        void (stepAt(d, i)['compensation'] = {
          id: stepAt(d, 0)['id'],
          request: { method: 'POST', url: 'http://127.0.0.1:9/u' },
        }),
      path: ['steps', i, 'compensation', 'id'],
    },
    {
      name: 'steps is an object',
      apply: (d) => void ((d as Record<string, unknown>)['steps'] = { s0: {} }),
      path: ['steps'],
    },
  ];
  if (steps >= 2) {
    list.push(
      {
        name: 'duplicate step id',
        apply: (d) => void (stepAt(d, i)['id'] = stepAt(d, 0)['id']),
        path: ['steps', i, 'id'],
      },
      {
        name: 'forward reference',
        apply: (d) =>
          void Object.assign(requestOf(d, 0), {
            method: 'POST',
            body: { x: `{{steps.${String(stepAt(d, i)['id'])}.output.x}}` },
          }),
        path: ['steps', 0, 'request', 'body'],
      },
    );
  }
  return list;
}

function replaceTarget(request: Record<string, unknown>, target: Record<string, unknown>): void {
  delete request['service'];
  delete request['path'];
  Object.assign(request, target);
}

/** True when an issue at `issuePath` names the problem at `expected`: its path starts with the expected one. */
export function pointsAt(issuePath: ReadonlyArray<string | number>, expected: ReadonlyArray<string | number>): boolean {
  return (
    expected.length > 0 &&
    issuePath.length >= expected.length &&
    expected.every((segment, k) => String(segment) === String(issuePath[k]))
  );
}

/** Whether a 400's body names the mutation's problem (by an issue's path, or by its words). Pure. */
export function namesProblem(
  body: { message?: unknown; issues?: unknown },
  mutation: Pick<Mutation, 'path' | 'message'>,
): boolean {
  const issues = Array.isArray(body.issues)
    ? (body.issues as Array<{ path?: Array<string | number>; message?: string }>)
    : [];
  if (issues.some((issue) => pointsAt(issue.path ?? [], mutation.path))) return true;
  const words = mutation.message;
  return (
    words !== undefined &&
    [String(body.message ?? ''), ...issues.map((issue) => String(issue.message ?? ''))].some((m) => words.test(m))
  );
}
