import { fileURLToPath } from 'node:url';

/** The services' child-process entries, run from source through tsx by spawnService. */
export const ENGINE_ENTRY = fileURLToPath(new URL('../../../../services/engine/src/main.ts', import.meta.url));
export const API_ENTRY = fileURLToPath(new URL('../../../../services/api/src/server.ts', import.meta.url));
