#!/usr/bin/env node
// Container healthcheck without curl (the slim image has none).
//   node docker/healthcheck.mjs http://127.0.0.1:3000/health   -> healthy on a 2xx answer
//   node docker/healthcheck.mjs tcp://127.0.0.1:3001 ...        -> healthy when the port accepts a connection
// Every target must pass; each gets a short timeout so a hung server reads as unhealthy.
import { connect } from 'node:net';

const TIMEOUT_MS = 2000;

async function checkHttp(target) {
  const res = await fetch(target, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`${target} answered ${res.status}`);
}

function checkTcp(target) {
  const { hostname, port } = new URL(target);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), timeout: TIMEOUT_MS });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`${target} timed out`));
    });
    socket.once('error', reject);
  });
}

function checkTarget(target) {
  return target.startsWith('tcp://') ? checkTcp(target) : checkHttp(target);
}

const targets = process.argv.slice(2);
if (targets.length === 0) {
  console.error('usage: healthcheck.mjs <http(s)://url | tcp://host:port>...');
  process.exit(2);
}

try {
  await Promise.all(targets.map(checkTarget));
  process.exit(0);
} catch (error) {
  console.error(`unhealthy: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
