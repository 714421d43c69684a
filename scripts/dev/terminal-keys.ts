import { readFileSync } from 'node:fs';

const CTRL_C = 0x03;

/**
 * A Ctrl-C typed in a terminal is a SIGINT to the whole foreground process group: npm and pnpm, which started
 * this script, get it as well, and then report `[ELIFECYCLE] Command failed.` (exit 130) whatever this script
 * exits with. When stdin is a terminal, this puts it in raw mode, so Ctrl-C arrives here as a key press and
 * only this script sees it; after a clean stop the package managers see exit 0. A SIGINT or SIGTERM sent to
 * this process still works as before. Not in a background job (`pnpm dev &`): changing the terminal's mode
 * from there would stop this process (SIGTTOU). Returns a function that gives the terminal back (idempotent).
 */
export function captureCtrlC(onCtrlC: () => void): () => void {
  const input = process.stdin;
  if (!input.isTTY || !inForegroundJob()) return () => {};
  const onData = (chunk: Buffer): void => {
    if (chunk.includes(CTRL_C)) onCtrlC();
  };
  input.setRawMode(true);
  input.on('data', onData);
  input.resume();
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    input.off('data', onData);
    input.setRawMode(false);
    input.pause();
  };
}

/**
 * Whether this process's group is the terminal's foreground group (Linux: /proc/self/stat `pgrp` and
 * `tpgid`). Where /proc is missing, assume it is: that is how a dev script is started.
 */
function inForegroundJob(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const [, , pgrp, , , tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return pgrp === tpgid;
  } catch {
    return true;
  }
}
