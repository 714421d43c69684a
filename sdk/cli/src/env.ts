/** The CLI's configuration from the environment (flags override it; see program.ts). */
export interface CliEnv {
  /** SAGAFLOW_URL, default http://localhost:3000 */
  url: string;
  /** SAGAFLOW_API_KEY: sent as `authorization: Bearer <key>` (SPEC §14). */
  apiKey: string | undefined;
  /** SAGAFLOW_ADMIN_TOKEN: sent as `x-admin-token` on every request (an admin credential, SPEC §14). */
  adminToken: string | undefined;
  /** Colours: off with NO_COLOR or when stdout is not a terminal (or TERM=dumb); FORCE_COLOR turns them on. */
  color: boolean;
  /** The width tables fit in: the terminal's, or COLUMNS; none when stdout is not a terminal and COLUMNS is unset. */
  columns: number | undefined;
}

export const DEFAULT_URL = 'http://localhost:3000';

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

export function readEnv(env: NodeJS.ProcessEnv = process.env, stdoutIsTty = process.stdout.isTTY === true): CliEnv {
  const fromEnv = Number(env.COLUMNS);
  const columns = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : stdoutIsTty ? process.stdout.columns : undefined;
  const forced = nonEmpty(env.FORCE_COLOR) !== undefined && env.FORCE_COLOR !== '0';
  return {
    url: nonEmpty(env.SAGAFLOW_URL) ?? DEFAULT_URL,
    apiKey: nonEmpty(env.SAGAFLOW_API_KEY),
    adminToken: nonEmpty(env.SAGAFLOW_ADMIN_TOKEN),
    columns,
    color: nonEmpty(env.NO_COLOR) === undefined && (forced || (stdoutIsTty && env.TERM !== 'dumb')),
  };
}
