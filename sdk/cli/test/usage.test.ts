import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';

/** Help, usage errors (exit 2), an unreachable API (exit 1), the headers sent: no stack needed. */

/** A loopback URL where nothing listens (a port that was just free). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

const COMMANDS = [
  ['workflows', 'apply'],
  ['start'],
  ['runs', 'get'],
  ['runs', 'events'],
  ['runs', 'cancel'],
  ['runs', 'retry'],
  ['workflows', 'list'],
  ['workflows', 'get'],
  ['workflows', 'pause'],
  ['workflows', 'resume'],
  ['runs', 'list'],
  ['runs', 'counts'],
  ['runs', 'redrive'],
  ['runs', 'pause'],
  ['runs', 'resume'],
  ['signal'],
  ['ops', 'create'],
  ['ops', 'get'],
  ['ops', 'list'],
  ['ops', 'cancel'],
  ['schedules', 'list'],
  ['schedules', 'get'],
  ['schedules', 'apply'],
  ['schedules', 'pause'],
  ['schedules', 'resume'],
  ['schedules', 'trigger'],
  ['schedules', 'delete'],
];
const help = (...command: string[]): number => COMMANDS.findIndex((c) => c.join(' ') === command.join(' '));

describe('--help', () => {
  it('lists the commands, the environment and the exit codes', async () => {
    const [root, runs] = await Promise.all([runCli(['--help']), runCli(['runs', '--help'])]);
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/^Usage: sagaflow \[options\] \[command\]/);
    for (const name of [
      'workflows',
      'start',
      'runs',
      'ops',
      'schedules',
      'SAGAFLOW_URL',
      'SAGAFLOW_API_KEY',
      'SAGAFLOW_ADMIN_TOKEN',
      'Exit codes',
    ]) {
      expect(root.stdout).toContain(name);
    }
    expect(runs.code).toBe(0);
    for (const name of ['list', 'counts', 'get', 'events', 'cancel', 'retry', 'redrive', 'pause', 'resume'])
      expect(runs.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
  });

  it('every command has its own --help with its options and the common ones', async () => {
    const results = await Promise.all(COMMANDS.map((command) => runCli([...command, '--help'])));
    results.forEach((result, i) => {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: sagaflow ${COMMANDS[i]!.join(' ')}`);
      for (const flag of ['--json', '--url <url>', '--api-key <key>', '--admin-token <token>', 'Examples:']) {
        expect(result.stdout).toContain(flag);
      }
    });
    expect(results[1]!.stdout).toMatch(/--input <json\|@file>[\s\S]*--idempotency-key <key>[\s\S]*--wait/);
    expect(results[3]!.stdout).toContain('--follow');
    const filters = [
      '--status <statuses>',
      '--workflow <name>',
      '--workflow-version',
      '--correlation-id',
      '--idempotency-key',
    ];
    for (const filter of [...filters, '--error-code', '--step', '--created-after', '--created-before', '--context'])
      for (const command of [help('runs', 'list'), help('runs', 'counts'), help('ops', 'create')])
        expect(results[command]!.stdout).toContain(filter);
    expect(results[help('runs', 'list')]!.stdout).toMatch(/--limit <n>[\s\S]*--all/);
    expect(results[help('ops', 'create')]!.stdout).toMatch(
      /--action <action>[\s\S]*--dry-run[\s\S]*--rate[\s\S]*--yes/,
    );
    expect(results[help('runs', 'redrive')]!.stdout).toContain('--reason <text>');
    expect(results[help('workflows', 'get')]!.stdout).toContain(
      'Usage: sagaflow workflows get [options] <name> [version]',
    );
  });

  it("--version and -V print the package version; after a command they are its options, not the program's", async () => {
    const env = { SAGAFLOW_URL: await deadUrl() };
    const [long, short, start, list] = await Promise.all([
      runCli(['--version']),
      runCli(['-V']),
      runCli(['start', 'wf', '--json', '--version'], env),
      runCli(['runs', 'list', '--version'], env),
    ]);
    expect(long).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    expect(short).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    // start's --version wants a value; runs list has none: usage errors, not the CLI's version
    expect(start).toMatchObject({ code: 2, stdout: '' });
    expect(JSON.parse(start.stderr)).toEqual({
      error: { code: 'USAGE', message: "option '--version <semver>' argument missing" },
    });
    expect(list).toMatchObject({ code: 2, stdout: '' });
    expect(list.stderr).toMatch(/unknown option '--version'/);
  });
});

describe('exit codes', () => {
  it('2 for usage errors, before any request (the API here is unreachable, which would be exit 1)', async () => {
    const env = { SAGAFLOW_URL: await deadUrl() };
    const cases: Array<[string[], RegExp]> = [
      [[], /Usage: sagaflow/],
      [['bogus'], /unknown command 'bogus'/],
      [['runs'], /Usage: sagaflow runs/],
      [['runs', 'get'], /missing required argument 'runId'/],
      [['runs', 'get', 'x', '--bogus'], /unknown option '--bogus'/],
      [['start', 'wf', '--input', '{bad'], /--input: invalid JSON/],
      [['start', 'wf', '--input', '[1]'], /--input: expected a JSON object, got an array/],
      [
        ['start', 'wf', '--context', '@/nonexistent/ctx.json'],
        /--context: cannot read \/nonexistent\/ctx.json \(ENOENT\)/,
      ],
      [['start', 'wf', '--wait', '--timeout', 'soon'], /--timeout: expected a positive number of seconds/],
      [['workflows', 'apply', '/nonexistent/wf.json'], /cannot read \/nonexistent\/wf.json/],
      [['runs', 'events', 'x', '--after', '-1'], /--after: expected an event number/],
      [['runs', 'list', '--status', 'FAILED,nope'], /--status: unknown status "NOPE"/],
      [['runs', 'list', '--created-after', 'yesterday'], /--created-after: expected an ISO 8601 time/],
      [['runs', 'list', '--limit', '0'], /--limit: expected a whole number/],
      [['runs', 'counts', '--context', '{bad'], /--context: invalid JSON/],
      [['runs', 'redrive'], /missing required argument 'runId'/],
      [['signal', 'r-1'], /missing required argument 'name'/],
      [['signal', 'r-1', 'approval', '--payload', '{bad'], /--payload: invalid JSON/],
      [['workflows', 'get'], /missing required argument 'name'/],
      [['workflows', 'pause'], /missing required argument 'name'/],
      [['ops', 'create', '--status', 'FAILED'], /--action is required/],
      [['ops', 'create', '--action', 'explode'], /--action: expected one of cancel, redrive, pause, resume/],
      [['ops', 'create', '--action', 'cancel', '--rate', 'fast', '--yes'], /--rate: expected a positive number/],
      [['ops', 'get'], /missing required argument 'operationId'/],
      [['ops', 'list', '--limit', 'x'], /--limit: expected a whole number/],
      [['schedules', 'apply', '/nonexistent/s.json'], /cannot read \/nonexistent\/s.json/],
      [['schedules', 'trigger'], /missing required argument 'scheduleId'/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, env)));
    results.forEach((result, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
    });
  });

  it('schedules apply: a schedule without an id is a usage error (stdin with -)', async () => {
    const env = { SAGAFLOW_URL: await deadUrl() };
    const result = await runCli(['schedules', 'apply', '-'], env, '[{"workflowName":"wf","cron":"@daily","input":{}}]');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/-: every schedule needs a string "id"/);
  });

  it('--json usage errors are one JSON document on stderr', async () => {
    const env = { SAGAFLOW_URL: await deadUrl() };
    const [input, option] = await Promise.all([
      runCli(['start', 'wf', '--input', '{bad', '--json'], env),
      runCli(['runs', 'get', 'x', '--bogus', '--json'], env),
    ]);
    expect(input.code).toBe(2);
    expect(JSON.parse(input.stderr)).toMatchObject({
      error: { code: 'USAGE', message: expect.stringContaining('--input') },
    });
    expect(option.code).toBe(2);
    expect(JSON.parse(option.stderr)).toEqual({ error: { code: 'USAGE', message: "unknown option '--bogus'" } });
  });

  it('2 when --url or SAGAFLOW_URL is not an http(s) URL: one line naming it and where it came from', async () => {
    const dead = await deadUrl();
    const [flag, fromEnv, scheme, json, flagWins] = await Promise.all([
      runCli(['runs', 'list', '--url', 'notaurl'], { SAGAFLOW_URL: dead }),
      runCli(['runs', 'get', 'x'], { SAGAFLOW_URL: 'notaurl' }),
      runCli(['workflows', 'list'], { SAGAFLOW_URL: 'ftp://127.0.0.1/' }),
      runCli(['start', 'wf', '--json'], { SAGAFLOW_URL: 'localhost:3000' }),
      runCli(['runs', 'get', 'x', '--url', dead], { SAGAFLOW_URL: 'notaurl' }),
    ]);
    expect(flag).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: USAGE: --url: not an http:// or https:// URL: "notaurl"\n',
    });
    expect(fromEnv).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: USAGE: SAGAFLOW_URL: not an http:// or https:// URL: "notaurl"\n',
    });
    expect(scheme).toMatchObject({ code: 2, stdout: '' });
    expect(scheme.stderr).toBe('error: USAGE: SAGAFLOW_URL: not an http:// or https:// URL: "ftp://127.0.0.1/"\n');
    expect(json).toMatchObject({ code: 2, stdout: '' });
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'USAGE', message: 'SAGAFLOW_URL: not an http:// or https:// URL: "localhost:3000"' },
    });
    // the flag overrides the variable: a bad SAGAFLOW_URL does not matter then
    expect(flagWins).toMatchObject({ code: 1, stdout: '' });
    expect(flagWins.stderr).toMatch(/UNREACHABLE/);
  });

  it('the common options also work before the command and between a group and its command; the nearest wins', async () => {
    const dead = await deadUrl();
    const [beforeCommand, beforeSubcommand, nearestWins, jsonFirst] = await Promise.all([
      runCli(['--url', 'notaurl', 'runs', 'list']),
      runCli(['runs', '--url', 'notaurl', 'list']),
      runCli(['--url', 'notaurl', 'runs', 'list', '--url', dead]),
      runCli(['--json', '--url', 'notaurl', 'workflows', 'list']),
    ]);
    for (const result of [beforeCommand, beforeSubcommand])
      expect(result).toEqual({
        code: 2,
        stdout: '',
        stderr: 'error: USAGE: --url: not an http:// or https:// URL: "notaurl"\n',
      });
    expect(nearestWins).toMatchObject({ code: 1, stdout: '' });
    expect(nearestWins.stderr).toBe(`error: UNREACHABLE: cannot reach the SagaFlow API at ${dead} (ECONNREFUSED)\n`);
    expect(jsonFirst).toMatchObject({ code: 2, stdout: '' });
    expect(JSON.parse(jsonFirst.stderr)).toEqual({
      error: { code: 'USAGE', message: '--url: not an http:// or https:// URL: "notaurl"' },
    });
  });

  it('sends the admin token on every request (SPEC §14: a credential on every /v1 endpoint), the API key too', async () => {
    const seen: Array<{ url: string | undefined; headers: IncomingHttpHeaders }> = [];
    const server = createHttpServer((request, response) => {
      seen.push({ url: request.url, headers: request.headers });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ items: [], nextCursor: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const env = { SAGAFLOW_URL: `http://127.0.0.1:${port}` };
      const both = await runCli(['runs', 'list', '--json'], {
        ...env,
        SAGAFLOW_API_KEY: 'key-1',
        SAGAFLOW_ADMIN_TOKEN: 'token-1',
      });
      const tokenOnly = await runCli(['runs', 'list', '--json', '--admin-token', 'token-2'], env);
      const keyOnly = await runCli(['runs', 'list', '--json', '--api-key', 'key-3'], env);
      const tokenFirst = await runCli(['--admin-token', 'token-4', 'runs', 'list', '--json'], env);
      for (const result of [both, tokenOnly, keyOnly, tokenFirst])
        expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(seen.map((request) => request.url)).toEqual([
        '/v1/runs?limit=50',
        '/v1/runs?limit=50',
        '/v1/runs?limit=50',
        '/v1/runs?limit=50',
      ]);
      expect(seen[3]!.headers).toMatchObject({ 'x-admin-token': 'token-4' });
      // beside a key, the admin token goes on admin calls only (runs list is not one): the key stays the identity
      expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer key-1' });
      expect(seen[0]!.headers).not.toHaveProperty('x-admin-token');
      expect(seen[1]!.headers).toMatchObject({ 'x-admin-token': 'token-2' });
      expect(seen[1]!.headers).not.toHaveProperty('authorization');
      expect(seen[2]!.headers).toMatchObject({ authorization: 'Bearer key-3' });
      expect(seen[2]!.headers).not.toHaveProperty('x-admin-token');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('1 when the API cannot be reached, naming the URL', async () => {
    const url = await deadUrl();
    const result = await runCli(['runs', 'get', 'x', '--url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: UNREACHABLE: cannot reach the SagaFlow API at ${url} (ECONNREFUSED)\n`);
  });
});
