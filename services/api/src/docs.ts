import Fastify, { type FastifyInstance } from 'fastify';
import { ADMIN_TOKEN_SCHEME } from './openapi-security.js';

/** Headers of the docs app's answer that the outer reply sets itself. */
const HOP_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

/**
 * `GET /docs`: the Scalar API reference for `/openapi.json`. The plugin bundles its JavaScript and serves
 * it at /docs/js/scalar.js, so the page works offline (no CDN); fonts stay local too. Scalar's own
 * promotions are off: the developer tools bar ("Deploy Fastify", "Generate SDK", "Share"), the AI agent
 * ("Ask AI") and the MCP integration. The admin token scheme is selected, so "Test Request" on an admin
 * operation sends the `x-admin-token` typed in once.
 *
 * Loaded on the first request under /docs, not at start: the plugin's module holds its 4.9 MB script as a string
 * (≈ 20 MB of heap, 30 MB of RSS per API process that nobody may ever ask for the docs; docs/performance.md#memory).
 * It runs in a Fastify instance of its own, which this route forwards to (`inject`, in memory).
 */
export function registerDocsRoutes(app: FastifyInstance): void {
  let docs: Promise<FastifyInstance> | undefined;
  const load = async (): Promise<FastifyInstance> => {
    const { default: scalarApiReference } = await import('@scalar/fastify-api-reference');
    const inner = Fastify({ logger: false });
    await inner.register(scalarApiReference, {
      routePrefix: '/docs',
      configuration: {
        url: '/openapi.json',
        cdn: '/docs/js/scalar.js',
        pageTitle: 'SagaFlow API',
        withDefaultFonts: false,
        hideClientButton: true,
        showDeveloperTools: 'never',
        agent: { disabled: true },
        mcp: { disabled: true },
        authentication: { preferredSecurityScheme: ADMIN_TOKEN_SCHEME },
      },
    });
    await inner.ready();
    return inner;
  };
  app.route({
    method: 'GET',
    url: '/docs/*',
    logLevel: 'warn',
    handler: async (request, reply) => {
      docs ??= load().catch((error: unknown) => {
        docs = undefined; // the next request tries again
        throw error;
      });
      const answer = await (
        await docs
      ).inject({
        method: request.method === 'HEAD' ? 'HEAD' : 'GET',
        url: request.url,
        headers: request.headers,
      });
      if (answer.statusCode === 404) return reply.callNotFound(); // the API's own 404 answer
      for (const [name, value] of Object.entries(answer.headers))
        if (value !== undefined && !HOP_HEADERS.has(name)) void reply.header(name, value);
      return reply.code(answer.statusCode).send(answer.rawPayload);
    },
  });
  app.addHook('onClose', async () => {
    const loaded = docs;
    docs = undefined;
    await loaded?.then((inner) => inner.close()).catch(() => {});
  });
}

/** Fastify `rewriteUrl`: the plugin serves the page at /docs/ and would redirect /docs there. */
export function rewriteDocsUrl(url: string): string {
  return url === '/docs' || url.startsWith('/docs?') ? `/docs/${url.slice('/docs'.length)}` : url;
}
