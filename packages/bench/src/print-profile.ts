// Usage: node --import tsx packages/bench/src/print-profile.ts <file.cpuprofile> [top]
// Prints the self time of a V8 CPU profile (node --cpu-prof) by function and by package/folder, as markdown.
import { readFile } from 'node:fs/promises';
import { formatProfileSummary, summarizeProfile, type CpuProfile } from './summarize-profile.js';

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: print-profile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
console.log(formatProfileSummary(summarizeProfile(profile, top ? Number(top) : 25)));
