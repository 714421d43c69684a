import type { FastifyInstance } from 'fastify';
import scalarApiReference from '@scalar/fastify-api-reference';

/**
 * `GET /docs`: the Scalar API reference for `/openapi.json`. The plugin bundles its JavaScript and serves
 * it at /docs/js/scalar.js, so the page works offline (no CDN); fonts stay local too.
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
    },
  });
}

/** Fastify `rewriteUrl`: the plugin serves the page at /docs/ and would redirect /docs there. */
export function rewriteDocsUrl(url: string): string {
  return url === '/docs' || url.startsWith('/docs?') ? `/docs/${url.slice('/docs'.length)}` : url;
}
