// `pnpm bench`: the saga benchmark of the issue "Performance" (burst, compensation, latency, start rate) against a real
// API + engine + Postgres. Options: `pnpm bench --help`; the workload and how to read the figures: docs/performance.md.
import './dev/development-conditions.js';

const { main } = await import('./bench/main.js');
process.exit(await main(process.argv.slice(2)));
