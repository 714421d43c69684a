import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** True when a process with this pid exists and is not a zombie (Linux: /proc says so). */
export async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return true; // no procfs (macOS): kill(0) is all we know
  // "<pid> (<comm>) <state> ..." — comm may contain spaces and parentheses, so split after the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The command line of a live process, or undefined when it cannot be read (no procfs, gone). */
export async function readCommandLine(pid: number): Promise<string | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return raw?.split('\0').join(' ').trim();
}

/** Polls until the process is gone; false when it is still alive after timeoutMs. */
export async function waitForProcessExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}
