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

const code = await main(process.argv, undefined, interrupted.signal);
process.exitCode = interrupted.signal.aborted ? 130 : code;
