const CTRL_C = 0x03;

/**
 * A Ctrl-C typed in a terminal is a SIGINT to the whole foreground process group: npm and pnpm, which started
 * this script, get it as well, and then report `[ELIFECYCLE] Command failed.` (exit 130) whatever this script
 * exits with. When stdin is a terminal, this puts it in raw mode, so Ctrl-C arrives here as a key press and
 * only this script sees it; after a clean stop the package managers see exit 0. A SIGINT or SIGTERM sent to
 * this process still works as before. Returns a function that gives the terminal back (idempotent).
 */
export function captureCtrlC(onCtrlC: () => void): () => void {
  const input = process.stdin;
  if (!input.isTTY) return () => {};
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
