import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Built to dist/ and served by the API at /ui (services/api/src/console.ts); no CDN, no external fonts. */
export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  // the workspace client from its TypeScript sources, like everywhere in this repo (no build of it needed first);
  // not the `development` condition for everything: that would bundle the libraries' development builds
  resolve: { alias: { '@sagaflow/client': fileURLToPath(new URL('../../sdk/client/src/index.ts', import.meta.url)) } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', chunkSizeWarningLimit: 400 },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
