import { digestLine, recordedDigestLine } from './schema-digest.js';

/**
 * Part of `pnpm lint`, no database needed: fails when a migration was added or edited after src/schema.generated.ts
 * was generated. (scripts/check-generated.sh regenerates the file from a database and compares it in full.)
 */
const expected = await digestLine();
const recorded = await recordedDigestLine();
if (recorded !== expected) {
  console.error(
    `packages/db/src/schema.generated.ts is stale: migrations/sql changed since it was generated ` +
      `(it says "${recorded ?? 'no digest'}", expected "${expected}"). Run 'pnpm db:codegen' and commit it.`,
  );
  process.exit(1);
}
