// `pnpm bench`: the saga benchmark of the issue "Performance" (burst, compensation, latency, start rate) against a real
// API + engine + Postgres. Options: `pnpm bench --help`; the workload and how to read the figures: docs/performance.md.
// Run it with `--conditions=development` (as the `bench` scripts do) so @sagaflow/* resolve to their sources.
import { main } from './main.js';

process.exit(await main(process.argv.slice(2)));
