import type { FastifyInstance } from 'fastify';
import scalarApiReference from '@scalar/fastify-api-reference';
import { ADMIN_TOKEN_SCHEME } from './openapi-security.js';

/**
 * `GET /docs`: the Scalar API reference for `/openapi.json`. The plugin bundles its JavaScript and serves
 * it at /docs/js/scalar.js, so the page works offline (no CDN); fonts stay local too. Scalar's own
 * promotions are off: the developer tools bar ("Deploy Fastify", "Generate SDK", "Share"), the AI agent
 * ("Ask AI") and the MCP integration. The admin token scheme is selected, so "Test Request" on an admin
 * operation sends the `x-admin-token` typed in once.
 */
export function registerDocsRoutes(app: FastifyInstance): void {
  void app.register(scalarApiReference, {
    routePrefix: '/docs',
    logLevel: 'warn',
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
}

/** Fastify `rewriteUrl`: the plugin serves the page at /docs/ and would redirect /docs there. */
export function rewriteDocsUrl(url: string): string {
  return url === '/docs' || url.startsWith('/docs?') ? `/docs/${url.slice('/docs'.length)}` : url;
}
