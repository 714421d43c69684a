import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import {
  createRootRoute,
  createRoute,
  createRouter,
  Link,
  Outlet,
  redirect,
  RouterProvider,
} from '@tanstack/react-router';
import { StrictMode, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { ErrorNotice } from './components.js';
import { OperationPage, OperationsPage, SchedulesPage } from './pages/admin.js';
import { RunPage } from './pages/run.js';
import { RunsPage, validateRunsSearch } from './pages/runs.js';
import { WorkflowPage, WorkflowsPage } from './pages/workflows.js';
import { can, SessionProvider, useSessionState } from './session.js';
import './styles.css';

function CredentialsDialog() {
  const { session, setCredential } = useSessionState();
  const [open, setOpen] = useState(false);
  const save = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const value = new FormData(event.currentTarget).get('apiKey');
    setCredential(typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
    setOpen(false);
  };
  return (
    <div className="credentials">
      <span className="dim">role</span> <strong data-testid="role">{session?.role ?? '…'}</strong>
      {session?.rejected && (
        <span role="alert" className="error small">
          key not accepted
        </span>
      )}
      <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>
        API key
      </button>
      {open && (
        <form
          role="dialog"
          aria-label="API key"
          className="popover"
          onSubmit={save}
          // Escape closes it, as it does the confirmation dialogs
          onKeyDown={(event) => {
            if (event.key === 'Escape') setOpen(false);
          }}
        >
          <label>
            API key
            <input name="apiKey" type="password" autoComplete="off" autoFocus />
          </label>
          <p className="small dim">
            Kept for this browser session only. An admin token works where the API has no keys.
          </p>
          <div className="actions">
            <button type="button" onClick={() => (setCredential(null), setOpen(false))}>
              Forget
            </button>
            <button type="submit" className="primary">
              Save
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

function Layout() {
  const { session, error } = useSessionState();
  return (
    <>
      <header>
        <span className="brand">SagaFlow</span>
        <nav aria-label="Main">
          <Link to="/runs">Runs</Link>
          <Link to="/workflows">Workflows</Link>
          {/* admin pages: hidden from the roles that cannot use them (SPEC §17) */}
          {session && can(session, 'admin') && (
            <>
              <Link to="/operations">Operations</Link>
              <Link to="/schedules">Schedules</Link>
            </>
          )}
        </nav>
        <CredentialsDialog />
      </header>
      <main>
        {error ? <ErrorNotice error={error} /> : null}
        {session ? (
          session.role === 'anonymous' && session.keysEnabled ? (
            <p>This API requires a key: enter one with the API key button.</p>
          ) : (
            <Outlet />
          )
        ) : (
          !error && <p>Connecting…</p>
        )}
      </main>
    </>
  );
}

const rootRoute = createRootRoute({ component: Layout });
const routeTree = rootRoute.addChildren([
  createRoute({
    getParentRoute: () => rootRoute,
    path: '/',
    beforeLoad: () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- TanStack Router's redirect is thrown
      throw redirect({ to: '/runs' });
    },
  }),
  createRoute({
    getParentRoute: () => rootRoute,
    path: '/runs',
    validateSearch: validateRunsSearch,
    component: RunsPage,
  }),
  createRoute({ getParentRoute: () => rootRoute, path: '/runs/$runId', component: RunPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/workflows', component: WorkflowsPage }),
  createRoute({
    getParentRoute: () => rootRoute,
    path: '/workflows/$name',
    validateSearch: (search: Record<string, unknown>): { version?: string } =>
      typeof search['version'] === 'string' ? { version: search['version'] } : {},
    component: WorkflowPage,
  }),
  createRoute({ getParentRoute: () => rootRoute, path: '/operations', component: OperationsPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/operations/$operationId', component: OperationPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/schedules', component: SchedulesPage }),
]);

const router = createRouter({ routeTree, basepath: '/ui' });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
