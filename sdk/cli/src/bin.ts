#!/usr/bin/env node
import { main } from './program.js';

// Ctrl-C: abort what runs (a --follow stream returns at once), then exit 130 as shells expect after SIGINT; a
// command that does not stop within half a second is ended.
const interrupted = new AbortController();
process.once('SIGINT', () => {
  process.exitCode = 130;
  interrupted.abort();
  setTimeout(() => process.exit(130), 500).unref();
});

// `sagaflow runs events … | head -1`: the reader went away; stop quietly like other Unix tools
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await main(process.argv, undefined, interrupted.signal);
process.exitCode = interrupted.signal.aborted ? 130 : code;
