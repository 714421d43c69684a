import { createRouter } from './trpc.js';
import { adminRouter } from './routers/admin.js';
import { healthRouter } from './routers/health.js';
import { operationsRouter } from './routers/operations.js';
import { runsRouter } from './routers/runs.js';
import { schedulesRouter } from './routers/schedules.js';
import { whoamiRouter } from './routers/whoami.js';
import { workflowsRouter } from './routers/workflows.js';

/** The API: composition only. Served as REST (the OpenAPI paths, openapi-adapter.ts). */
export const appRouter = createRouter({
  workflows: workflowsRouter,
  runs: runsRouter,
  admin: adminRouter,
  operations: operationsRouter,
  schedules: schedulesRouter,
  health: healthRouter,
  whoami: whoamiRouter,
});

export type AppRouter = typeof appRouter;
