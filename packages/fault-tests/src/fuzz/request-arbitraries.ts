import fc from 'fast-check';
import type { RawRequest } from './raw-request.js';
import { brokenJsonText, deepNesting, hostileObject, hostileString, hostileValue } from './json-arbitraries.js';

/** The endpoints the HTTP fuzzer aims at (docs/contract.md#rest-api). */
export type FuzzTarget = 'start' | 'admin' | 'retry' | 'cancel';

export interface FuzzWorld {
  /** a registered workflow's name */
  workflow: string;
  /** existing runs and one of their step ids */
  runIds: readonly string[];
  stepId: string;
  adminToken: string;
}

export interface FuzzRequest extends RawRequest {
  target: FuzzTarget;
}

/** Header values Node will send: tab, printable ASCII and Latin-1, any length up to 300. */
const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength: 40,
  }),
  fc.constantFrom(
    '',
    ' ',
    '\t',
    'x'.repeat(201),
    'k'.repeat(300),
    '__proto__',
    'null',
    '00-00000000000000000000000000000000-0000000000000000-00',
  ),
);

/** A path segment: valid, percent-encoded hostile text, or raw oddities (Node refuses only controls and spaces). */
function segment(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: valid },
    {
      weight: 2,
      arbitrary: hostileString
        .filter((s) => s.length < 2_000)
        .map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%00',
        '..',
        '%2e%2e',
        'a%2Fb',
        '__proto__',
        'constructor',
        '%',
        '%zz',
        ';x=1',
        '~',
        'A',
        '-',
        'a'.repeat(63),
        'a'.repeat(64),
        'b'.repeat(5_000),
        '%F0%9F%92%A9',
        '%C0%AF',
        '%ff',
      ),
    },
  );
}

const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json-patch+json',
      '',
      '*/*',
    ),
  },
);

const method: fc.Arbitrary<string> = fc.oneof(
  { weight: 9, arbitrary: fc.constant('POST') },
  { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS') },
);

function json(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Start bodies: well-formed with hostile input/context/version, any hostile JSON, broken JSON, deep nesting, none. */
function startBody(): fc.Arbitrary<string | undefined> {
  const plausible = fc
    .record(
      {
        version: fc.oneof(fc.constantFrom('1.0.0', '9.9.9'), hostileValue),
        input: fc.oneof({ weight: 3, arbitrary: hostileObject }, { weight: 1, arbitrary: hostileValue }),
        context: hostileValue,
      },
      { requiredKeys: ['input'] },
    )
    .map(json);
  return fc.oneof(
    { weight: 4, arbitrary: plausible },
    { weight: 2, arbitrary: hostileValue.map(json) },
    { weight: 2, arbitrary: brokenJsonText },
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Admin bodies: definition-shaped documents with hostile fields, or anything. */
function adminBody(): fc.Arbitrary<string | undefined> {
  const step = fc.record(
    {
      id: fc.oneof(fc.constant('one'), hostileValue),
      request: fc.oneof(fc.constant({ method: 'POST', url: 'http://127.0.0.1:9/x' }), hostileValue),
      timeoutMs: hostileValue,
      retry: hostileValue,
      compensation: hostileValue,
    },
    { requiredKeys: ['id', 'request'] },
  );
  const definition = fc
    .record(
      {
        name: fc.oneof(fc.constant('fuzz-admin'), hostileValue),
        version: fc.oneof(fc.constant('1.0.0'), hostileValue),
        description: hostileValue,
        steps: fc.oneof(fc.array(step, { maxLength: 3 }), hostileValue),
      },
      { requiredKeys: ['name', 'version', 'steps'] },
    )
    .map(json);
  return fc.oneof(
    { weight: 5, arbitrary: definition },
    { weight: 2, arbitrary: hostileValue.map(json) },
    { weight: 2, arbitrary: brokenJsonText },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Retry and cancel take no body: mostly none, sometimes junk. */
const emptyishBody: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('', '{}', '   ') },
  { weight: 2, arbitrary: hostileValue.map(json) },
  { weight: 2, arbitrary: brokenJsonText },
);

/** Start requests that get past routing and content-type checks, so the hostile input reaches validation and storage. */
function plausibleStart(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      input: hostileObject,
      context: fc.option(hostileObject, { freq: 3 }),
      key: fc.option(fc.uuid(), { freq: 2 }),
    })
    .map(({ input, context, key }) => ({
      target: 'start' as const,
      method: 'POST',
      path: `/v1/workflows/${world.workflow}/start`,
      headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'idempotency-key': key }) },
      body: json(context === null ? { input } : { input, context }),
    }));
}

function withHeaders(
  target: FuzzTarget,
  path: fc.Arbitrary<string>,
  body: fc.Arbitrary<string | undefined>,
  extra: fc.Arbitrary<Record<string, string>>,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({ method, path, body, type: contentType, extra })
    .map(({ method: m, path: p, body: b, type, extra: headers }) => {
      const all: Record<string, string> = { ...headers };
      if (type !== undefined) all['content-type'] = type;
      return { target, method: m, path: p, headers: all, ...(b === undefined ? {} : { body: b }) };
    });
}

const runIdSegment = (world: FuzzWorld): fc.Arbitrary<string> =>
  segment(
    fc.oneof(
      fc.constantFrom(...world.runIds),
      fc.uuid(),
      fc.constantFrom('00000000-0000-0000-0000-000000000000', world.runIds[0]!.toUpperCase(), `${world.runIds[0]}x`),
    ),
  );

/** Every request the HTTP fuzzer may send to one target. */
export function fuzzRequest(world: FuzzWorld, target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const optional = (name: string, value: fc.Arbitrary<string>): fc.Arbitrary<Record<string, string>> =>
    fc.option(value, { freq: 2 }).map((v) => (v === null ? {} : { [name]: v }));
  const merge = (...parts: Array<fc.Arbitrary<Record<string, string>>>): fc.Arbitrary<Record<string, string>> =>
    fc.tuple(...parts).map((list) => Object.assign({}, ...list) as Record<string, string>);
  switch (target) {
    case 'start':
      return fc.oneof(
        { weight: 1, arbitrary: plausibleStart(world) },
        {
          weight: 2,
          arbitrary: withHeaders(
            target,
            segment(fc.constant(world.workflow)).map((name) => `/v1/workflows/${name}/start`),
            startBody(),
            merge(
              optional('idempotency-key', headerValue),
              optional('x-correlation-id', headerValue),
              optional('traceparent', headerValue),
              optional('tracestate', headerValue),
            ),
          ),
        },
      );
    case 'admin':
      return withHeaders(
        target,
        fc.oneof(
          { weight: 9, arbitrary: fc.constant('/v1/admin/workflows') },
          { weight: 1, arbitrary: segment(fc.constant('workflows')).map((s) => `/v1/admin/${s}`) },
        ),
        adminBody(),
        fc.oneof(
          { weight: 8, arbitrary: fc.constant({ 'x-admin-token': world.adminToken }) },
          { weight: 2, arbitrary: optional('x-admin-token', headerValue) },
        ),
      );
    case 'retry':
      return withHeaders(
        target,
        fc
          .tuple(runIdSegment(world), segment(fc.constantFrom(world.stepId, 'nope')))
          .map(([run, step]) => `/v1/runs/${run}/steps/${step}/retry`),
        emptyishBody,
        optional('x-correlation-id', headerValue),
      );
    case 'cancel':
      return withHeaders(
        target,
        runIdSegment(world).map((run) => `/v1/runs/${run}/cancel`),
        emptyishBody,
        optional('x-correlation-id', headerValue),
      );
  }
}
