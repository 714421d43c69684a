import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A detached shell that outlives this process if it is killed outright (SIGKILL, a crashed test worker): once the
 * parent is gone it kills every PID in `<dir>/pids/*.pid` and every postmaster of `<dir>/node*\/data`, then removes
 * `dir`. close() kills the watchdog itself after a normal teardown.
 */
const SCRIPT = `
parent="$1"; dir="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
for f in "$dir"/pids/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
for f in "$dir"/node*/data/postmaster.pid; do [ -f "$f" ] && kill -QUIT "$(head -n 1 "$f")" 2>/dev/null; done
sleep 3
for f in "$dir"/node*/data/postmaster.pid; do [ -f "$f" ] && kill -9 "$(head -n 1 "$f")" 2>/dev/null; done
rm -rf "$dir"
`;

export function startWatchdog(dir: string): ChildProcess {
  const child = spawn('bash', ['-c', SCRIPT, 'ha-watchdog', String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}
