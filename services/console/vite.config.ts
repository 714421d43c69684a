import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const COMPRESSIBLE = /\.(?:m?js|css|html|svg|json)$/;

/**
 * A `.gz` and a `.br` beside each text file of dist, which the API sends as they are to a browser that accepts them
 * (@fastify/static `preCompressed`, services/api/src/console.ts): the first load is the compressed size on the wire,
 * with no compression work per request. A variant no smaller than the file is not written (the plain file is sent).
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'sagaflow:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      if (!existsSync(outDir)) return; // the build failed before writing anything
      const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).map((name) => join(outDir, name));
      for (const file of files.filter((path) => COMPRESSIBLE.test(path))) {
        const plain = readFileSync(file);
        const gzip = gzipSync(plain, { level: 9 });
        const brotli = brotliCompressSync(plain, {
          params: {
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: plain.length,
          },
        });
        if (gzip.length < plain.length) writeFileSync(`${file}.gz`, gzip);
        if (brotli.length < plain.length) writeFileSync(`${file}.br`, brotli);
      }
    },
  };
}

/** Built to dist/ and served by the API at /ui (services/api/src/console.ts); no CDN, no external fonts. */
export default defineConfig({
  base: '/ui/',
  plugins: [react(), precompress()],
  // the workspace client from its TypeScript sources, like everywhere in this repo (no build of it needed first);
  // not the `development` condition for everything: that would bundle the libraries' development builds
  resolve: { alias: { '@sagaflow/client': fileURLToPath(new URL('../../sdk/client/src/index.ts', import.meta.url)) } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 400 },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
