import { createClient, SagaFlowError, type SagaFlowClient } from '@sagaflow/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

/**
 * The console's credentials (SPEC §17): one key, entered once per browser session (sessionStorage), sent as an API
 * key (`authorization: Bearer`) or, when the API has no keys configured, as the admin token. The role the API
 * reports (`GET /v1/whoami`) decides what the pages show.
 */

export type Role = 'anonymous' | 'client' | 'operator' | 'admin';
const RANK: Record<Role, number> = { anonymous: 0, client: 1, operator: 2, admin: 3 };
const STORAGE_KEY = 'sagaflow.apiKey';

export interface Session {
  client: SagaFlowClient;
  role: Role;
  /** SAGAFLOW_API_KEYS is set: nothing can be read without a key */
  keysEnabled: boolean;
  /** a key was entered but the API does not accept it */
  rejected: boolean;
}

function readStored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

async function whoami(client: SagaFlowClient): Promise<{ role: Role; keysEnabled: boolean } | 'unauthorized'> {
  try {
    return await client.whoami();
  } catch (error) {
    if (error instanceof SagaFlowError && error.status === 401) return 'unauthorized';
    throw error;
  }
}

/** Tries the key as an API key, then as the admin token; the first the API recognises wins. */
async function openSession(credential: string | null): Promise<Session> {
  const baseUrl = window.location.origin;
  const anonymous = createClient({ baseUrl });
  if (credential) {
    for (const client of [
      createClient({ baseUrl, apiKey: credential }),
      createClient({ baseUrl, adminToken: credential }),
    ]) {
      const who = await whoami(client);
      if (who !== 'unauthorized' && who.role !== 'anonymous') {
        return { client, role: who.role, keysEnabled: who.keysEnabled, rejected: false };
      }
    }
  }
  const who = await whoami(anonymous);
  return who === 'unauthorized'
    ? { client: anonymous, role: 'anonymous', keysEnabled: true, rejected: credential !== null }
    : { client: anonymous, role: 'anonymous', keysEnabled: who.keysEnabled, rejected: credential !== null };
}

interface SessionState {
  session: Session | undefined;
  error: unknown;
  setCredential(credential: string | null): void;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [credential, setStored] = useState<string | null>(readStored);
  const queries = useQueryClient();
  const query = useQuery({
    queryKey: ['session', credential],
    queryFn: () => openSession(credential),
    staleTime: Infinity,
    retry: 1,
  });
  const setCredential = useCallback(
    (next: string | null) => {
      try {
        if (next) sessionStorage.setItem(STORAGE_KEY, next);
        else sessionStorage.removeItem(STORAGE_KEY);
      } catch {
        // private mode without storage: the key lasts until reload
      }
      setStored(next);
      // every page reads again with the new credentials
      void queries.invalidateQueries({ predicate: (q) => q.queryKey[0] !== 'session' });
    },
    [queries],
  );
  const value = useMemo(
    () => ({ session: query.data, error: query.error, setCredential }),
    [query.data, query.error, setCredential],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState outside SessionProvider');
  return state;
}

/** The session; the pages render only once it is known (see Layout). */
export function useSession(): Session {
  const { session } = useSessionState();
  if (!session) throw new Error('no session yet');
  return session;
}

/** Whether the session's role may do what needs `role` (client < operator < admin). */
export function can(session: Session, role: Exclude<Role, 'anonymous'>): boolean {
  return RANK[session.role] >= RANK[role];
}

/** What a page may read: with keys, only what the role allows; without keys, everything but admin data is open. */
export function canRead(session: Session, role: Exclude<Role, 'anonymous'>): boolean {
  return can(session, role) || (!session.keysEnabled && role !== 'admin');
}
