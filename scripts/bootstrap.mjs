#!/usr/bin/env node
// Installs the workspace with the pinned pnpm, so `npm start` / `npm test` work on a machine
// that has only Node and npm. Uses a pnpm already on PATH when it is the pinned version.
import { execSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`SagaFlow needs Node >= 20 (found ${process.versions.node}).`);
  process.exit(1);
}
const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).packageManager.split(
  '@',
)[1];

function pnpmOnPath() {
  try {
    return (
      execSync('pnpm --version', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim() === pinned
    );
  } catch {
    return false;
  }
}

const frozen = process.env.CI ? ['--frozen-lockfile'] : [];
const [cmd, args] = pnpmOnPath()
  ? ['pnpm', ['install', ...frozen]]
  : ['npx', ['-y', `pnpm@${pinned}`, 'install', ...frozen]];
const result = spawnSync(cmd, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
