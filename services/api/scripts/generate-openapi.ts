import { writeFileSync } from 'node:fs';
import { OPENAPI_PATH, SDK_SCHEMA_PATH, renderArtifacts } from './openapi-artifacts.js';

/** `pnpm openapi`: writes openapi/openapi.json from the routers, then sdk/client/src/schema.d.ts from it. */
const artifacts = renderArtifacts();
writeFileSync(OPENAPI_PATH, artifacts.openapi);
writeFileSync(SDK_SCHEMA_PATH, artifacts.sdkSchema);
console.log(`wrote ${OPENAPI_PATH}\nwrote ${SDK_SCHEMA_PATH}`);
