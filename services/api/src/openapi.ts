import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { appRouter } from './router.js';
import { listEndpointRoles } from './endpoint-roles.js';
import { ADMIN_TOKEN_SCHEME, API_KEY_SCHEME, SECURITY_SCHEMES } from './openapi-security.js';
import { errorBodySchema } from './schemas/error.js';

/**
 * The OpenAPI 3.1 document, generated from the routers, then corrected where trpc-to-openapi cannot
 * know the truth: success statuses (202, 201 + 200, 503), the real error body on every error response,
 * the response headers (`x-correlation-id`, `Retry-After`), the security schemes (openapi-security.ts).
 * Keys are sorted so the output is stable.
 */

type Json = Record<string, unknown>;

const ERROR_RESPONSES: Record<number, { name: string; description: string; headers?: Json }> = {
  400: { name: 'BadRequest', description: 'Invalid input (zod issues in `issues`) or invalid JSON' },
  401: {
    name: 'Unauthorized',
    description:
      'Missing or unknown credential: with SAGAFLOW_API_KEYS, an API key (`authorization: Bearer <key>`) or ' +
      '`x-admin-token` on every /v1 endpoint; without, `x-admin-token` on the admin endpoints',
  },
  403: {
    name: 'Forbidden',
    description:
      "The key's role is below the endpoint's (`x-sagaflow-role`), or a cross-site request refused: " +
      "`Sec-Fetch-Site: cross-site`, or an `Origin` that is neither the API's own nor listed in SAGAFLOW_ALLOWED_ORIGINS",
  },
  404: { name: 'NotFound', description: 'Unknown workflow, run or step' },
  409: { name: 'Conflict', description: 'State conflict; `message` gives the reason' },
  413: { name: 'PayloadTooLarge', description: 'Request body over the limit (1 MiB)' },
  415: {
    name: 'UnsupportedMediaType',
    description: 'A content type other than application/json (forms and text are refused even without a body)',
  },
  429: {
    name: 'TooManyRequests',
    description:
      'Rate limited: the admin endpoints per client, and any request with a credential after too many failed ' +
      'credential checks from the client',
    headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
  },
  500: { name: 'InternalError', description: 'Unexpected error (details are logged, never returned)' },
  503: {
    name: 'ServiceUnavailable',
    description:
      'The database is unavailable (SERVICE_UNAVAILABLE), or a search ran past SEARCH_STATEMENT_TIMEOUT_MS (QUERY_TIMEOUT: narrow the filters)',
  },
};

interface OperationContract {
  success: Record<number, string>;
  errors: number[];
  /** Moves the request body schema to components/schemas under this name (named types in the SDK). */
  requestSchemaName?: string;
}

const POST_ERRORS = [400, 403, 404, 409, 413, 415];

/** What each operation really answers (docs/contract.md#rest-api). Every operation may also answer 500. */
const CONTRACT: Record<string, OperationContract> = {
  startRun: {
    success: { 202: 'Run accepted' },
    errors: POST_ERRORS,
    requestSchemaName: 'StartRunRequest',
  },
  getRun: { success: { 200: 'The run and its steps' }, errors: [400, 404] },
  searchRuns: { success: { 200: 'A page of runs' }, errors: [400, 503] },
  countRuns: { success: { 200: 'Run counts by status' }, errors: [400, 503] },
  listWorkflows: { success: { 200: 'The registered workflows' }, errors: [] },
  getWorkflowVersion: { success: { 200: 'The registered definition' }, errors: [400, 404] },
  listRunEvents: { success: { 200: 'A page of the run history' }, errors: [400, 404] },
  cancelRun: { success: { 202: 'Cancellation accepted' }, errors: POST_ERRORS },
  retryStep: { success: { 202: 'Retry accepted' }, errors: POST_ERRORS },
  sendSignal: { success: { 202: 'Signal accepted' }, errors: POST_ERRORS, requestSchemaName: 'SignalRequest' },
  redriveRun: { success: { 202: 'Redrive accepted' }, errors: POST_ERRORS },
  pauseRun: { success: { 202: 'The run is paused (also when it already was)' }, errors: POST_ERRORS },
  resumeRun: { success: { 202: 'The run is not paused (also when it was not)' }, errors: [400, 403, 404, 413, 415] },
  pauseWorkflow: {
    success: { 202: 'The workflow is paused (also when it already was)' },
    errors: [400, 401, 403, 404, 413, 415, 429],
  },
  resumeWorkflow: {
    success: { 202: 'The workflow is not paused (also when it was not)' },
    errors: [400, 401, 403, 404, 413, 415, 429],
  },
  registerWorkflow: {
    success: { 200: 'Identical definition already registered (no-op)', 201: 'Definition registered' },
    errors: [400, 401, 403, 409, 413, 415, 429],
    requestSchemaName: 'WorkflowDefinition',
  },
  createOperation: {
    success: { 200: 'Dry run: what the operation would act on', 202: 'Operation created' },
    errors: [400, 401, 403, 413, 415, 429],
    requestSchemaName: 'CreateOperationRequest',
  },
  getOperation: { success: { 200: 'The operation and its progress' }, errors: [400, 401, 404, 429] },
  listOperations: { success: { 200: 'A page of operations, newest first' }, errors: [400, 401, 429] },
  cancelOperation: { success: { 202: 'Cancelled (or already cancelled)' }, errors: [400, 401, 403, 404, 409, 429] },
  putSchedule: {
    success: { 200: 'Schedule replaced', 201: 'Schedule created' },
    errors: [400, 401, 403, 413, 415, 429],
    requestSchemaName: 'ScheduleRequest',
  },
  listSchedules: { success: { 200: 'Every schedule' }, errors: [401, 429] },
  getSchedule: { success: { 200: 'The schedule' }, errors: [400, 401, 404, 429] },
  pauseSchedule: { success: { 202: 'Paused (no-op when already paused)' }, errors: [400, 401, 403, 404, 415, 429] },
  resumeSchedule: { success: { 202: 'Resumed (no-op when not paused)' }, errors: [400, 401, 403, 404, 415, 429] },
  triggerSchedule: { success: { 202: 'Run started' }, errors: [400, 401, 403, 404, 409, 415, 429] },
  deleteSchedule: { success: { 204: 'Deleted' }, errors: [400, 401, 403, 404, 429] },
  whoami: { success: { 200: 'The caller’s role' }, errors: [401, 429] },
  getHealth: { success: { 200: 'Alive' }, errors: [] },
  getReadiness: { success: { 200: 'Ready', 503: 'Not ready; `checks` names what failed' }, errors: [] },
};

function buildComponents(generated: Json, namedSchemas: Json): Json {
  const schemas = Object.fromEntries(
    Object.entries({ ...((generated.schemas ?? {}) as Json), ...namedSchemas }).filter(
      ([name]) => !name.startsWith('error.'),
    ),
  );
  const responses = Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(({ name, description, headers }) => [
      name,
      {
        description,
        headers: { 'x-correlation-id': { $ref: '#/components/headers/CorrelationId' }, ...headers },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );
  const headers = {
    RetryAfter: { description: 'Seconds until the rate limit window resets', schema: { type: 'integer', minimum: 1 } },
    CorrelationId: {
      description:
        "The correlation id: the request header echoed back, or a generated UUID; a replayed start answers with the run's own",
      schema: { type: 'string' },
    },
  };
  return { ...generated, schemas, responses, headers, securitySchemes: SECURITY_SCHEMES };
}

/** The errors every operation that needs a role can answer (docs/security.md). */
const ACCESS_ERRORS = [401, 403, 429];

/** Security of an operation: an API key or the admin token, and the role it needs (`x-sagaflow-role`). */
function accessOf(operationId: string, roles: Map<string, string | undefined>): Json {
  const role = roles.get(operationId);
  if (!role) throw new Error(`openapi: operation ${operationId} declares no role (meta.role)`);
  if (role === 'public') return { 'x-sagaflow-role': 'public', security: [] };
  return {
    'x-sagaflow-role': role,
    security: [{ [API_KEY_SCHEME]: [] }, { [ADMIN_TOKEN_SCHEME]: [] }],
  };
}

function withRoleNote(description: unknown, role: unknown): string | undefined {
  if (role === 'public') return description as string | undefined;
  const note = `Needs the \`${String(role)}\` role (docs/security.md).`;
  return description ? `${String(description)} ${note}` : note;
}

function rewriteOperation(operation: Json, namedSchemas: Json, roles: Map<string, string | undefined>): Json {
  const operationId = String(operation.operationId);
  const contract = CONTRACT[operationId];
  if (!contract) throw new Error(`openapi: no response contract for operation ${operationId}`);
  const access = accessOf(operationId, roles);
  const requestBody = operation.requestBody as { content: Record<string, { schema: unknown }> } | undefined;
  const jsonBody = requestBody?.content['application/json'];
  if (contract.requestSchemaName && jsonBody) {
    namedSchemas[contract.requestSchemaName] = jsonBody.schema;
    jsonBody.schema = { $ref: `#/components/schemas/${contract.requestSchemaName}` };
  }
  const generated = ((operation.responses as Json)['200'] ?? {}) as Json;
  const headers = { 'x-correlation-id': { $ref: '#/components/headers/CorrelationId' } };
  const responses: Json = {};
  for (const [status, description] of Object.entries(contract.success)) {
    // a 204 has no body
    responses[status] =
      status === '204' ? { description, headers } : { description, headers, content: generated.content };
  }
  const errors = access['x-sagaflow-role'] === 'public' ? contract.errors : [...contract.errors, ...ACCESS_ERRORS];
  for (const status of [...errors, 500]) {
    responses[String(status)] = { $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` };
  }
  const { security: _generated, ...rest } = operation;
  const description = withRoleNote(operation.description, access['x-sagaflow-role']);
  return { ...rest, ...access, ...(description ? { description } : {}), responses };
}

/** Recursively sorts object keys (arrays keep their order) so the serialised document is stable. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Json)[key])]),
  );
}

const TOP_LEVEL_ORDER = ['openapi', 'info', 'servers', 'tags', 'security', 'paths', 'components'];

/** zod-openapi names unnamed shared schemas `__schemaN`; the recursive JSON value is the only one here. */
function nameAnonymousSchemas(document: Json): Json {
  const schemas = ((document.components as Json).schemas ?? {}) as Json;
  let text = JSON.stringify(document);
  for (const [name, schema] of Object.entries(schemas)) {
    if (!name.startsWith('__schema')) continue;
    const variants = JSON.stringify(schema);
    const isJsonValue = ['"string"', '"number"', '"boolean"', '"null"', '"array"', '"object"'].every((t) =>
      variants.includes(`"type":${t}`),
    );
    const newName = isJsonValue ? 'JsonValue' : `Schema${name.slice('__schema'.length)}`;
    text = text.replaceAll(`"${name}"`, `"${newName}"`).replaceAll(`/${name}"`, `/${newName}"`);
  }
  return JSON.parse(text) as Json;
}

/** The SSE stream is a Fastify route (trpc-to-openapi does not stream): described here, by hand. */
function streamOperation(roles: Map<string, string | undefined>): Json {
  const error = (status: number) => ({ $ref: `#/components/responses/${ERROR_RESPONSES[status]!.name}` });
  const access = accessOf('streamRunEvents', roles);
  return {
    get: {
      ...access,
      operationId: 'streamRunEvents',
      tags: ['runs'],
      summary: "A run's history as Server-Sent Events: replayed from `Last-Event-ID` / `after`, then live",
      description:
        'Each event as `id: <seq>`, `event: <type>`, `data: <RunEvent JSON>` (the same JSON as the list). A `: ping` ' +
        "comment every 15 s of silence; after the terminal run's last event, `event: end` with `data: {}` and the " +
        'stream closes. Works across API instances (woken through Postgres). An unknown run is a 404 before the stream. ' +
        `Needs the \`${String(access['x-sagaflow-role'])}\` role (docs/security.md).`,
      parameters: [
        { name: 'runId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        {
          name: 'after',
          in: 'query',
          required: false,
          description: 'Start after this seq (default 0); the Last-Event-ID header wins when both are sent',
          schema: { type: 'string', pattern: '^\\d{1,9}$' },
        },
        {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: 'The last seq the client has (EventSource sends it when it reconnects)',
          schema: { type: 'string', pattern: '^\\d{1,9}$' },
        },
      ],
      responses: {
        '200': {
          description: 'The event stream',
          headers: { 'x-correlation-id': { $ref: '#/components/headers/CorrelationId' } },
          content: {
            'text/event-stream': {
              schema: { type: 'string', description: 'SSE frames; each `data` line is a RunEvent' },
            },
          },
        },
        '400': error(400),
        '401': error(401),
        '403': error(403),
        '404': error(404),
        '429': error(429),
        '500': error(500),
      },
    },
  };
}

export function postProcessDocument(document: OpenAPIObject): Json {
  const paths: Json = {};
  const namedSchemas: Json = {};
  const roles = new Map(listEndpointRoles(appRouter).map((e) => [String(e.operationId), e.role as string | undefined]));
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const methods: Json = {};
    for (const [method, operation] of Object.entries(item as Json)) {
      methods[method] = rewriteOperation(operation as Json, namedSchemas, roles);
    }
    paths[path] = methods;
  }
  paths['/v1/runs/{runId}/events/stream'] = streamOperation(roles);
  const components = buildComponents((document.components ?? {}) as Json, namedSchemas);
  const processed = nameAnonymousSchemas({ ...document, paths, components });
  const sorted = sortKeys(processed) as Json;
  const ordered: Json = {};
  for (const key of TOP_LEVEL_ORDER) if (sorted[key] !== undefined) ordered[key] = sorted[key];
  for (const key of Object.keys(sorted)) if (!(key in ordered)) ordered[key] = sorted[key];
  return ordered;
}

/** The API's OpenAPI document, exactly as committed in openapi/openapi.json and served at /openapi.json. */
export function buildOpenApiDocument(): Json {
  const document = generateOpenApiDocument(appRouter, {
    title: 'SagaFlow API',
    description:
      'Start and inspect saga runs, retry failed steps, cancel runs, register workflow definitions. ' +
      'Errors are `{ code, message, issues? }`.',
    version: '1.0.0',
    baseUrl: '/',
    tags: ['runs', 'admin', 'health'],
    // every operation's security is set from its role afterwards (accessOf)
    securitySchemes: { [ADMIN_TOKEN_SCHEME]: { ...SECURITY_SCHEMES[ADMIN_TOKEN_SCHEME] } },
    defs: { Error: errorBodySchema },
  });
  return postProcessDocument(document);
}

/** The document as committed: two-space JSON with a trailing newline. */
export function serializeOpenApiDocument(document: Json): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
