/** The environment initdb and postgres run with: this process's, with the C locale so their output parses the same. */
export function postgresChildEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C' };
}
