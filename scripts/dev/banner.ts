import type { DevServiceSpec } from './dev-settings.js';

const bold = (text: string): string => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[0m` : text);

/** Prints where every part of the stack listens, and the admin token, prominently. */
export function printBanner(options: {
  databaseUrl: string;
  postgresNote: string;
  services: DevServiceSpec[];
  missingServices: DevServiceSpec[];
  adminToken: string;
  adminTokenGenerated: boolean;
}): void {
  const rows: [string, string][] = [
    ['postgres', `${options.databaseUrl}  (${options.postgresNote})`],
    ...options.services.map((spec): [string, string] => [spec.name, spec.listens]),
    ...options.missingServices.map((spec): [string, string] => [
      spec.name,
      `not started: ${spec.dir}/${spec.entry} does not exist yet`,
    ]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const tokenLine = `ADMIN_TOKEN=${options.adminToken}`;
  const rule = '═'.repeat(Math.max(tokenLine.length + 4, 60));
  const lines = [
    '',
    bold('SagaFlow dev stack'),
    ...rows.map(([name, where]) => `  ${name.padEnd(width)}  ${where}`),
    '',
    rule,
    `  ${bold(tokenLine)}`,
    `  ${options.adminTokenGenerated ? 'generated for this session; set ADMIN_TOKEN to keep your own' : 'from your environment'}`,
    `  send it as the x-admin-token header to /v1/admin/*, or paste it under "API key" in the console`,
    rule,
    '  Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
