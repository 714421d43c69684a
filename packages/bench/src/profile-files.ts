import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeAllocProfile, type AllocProfile, type AllocSummary } from './summarize-alloc-profile.js';
import { summarizeProfile, type CpuProfile, type MonotonicWindow, type ProfileSummary } from './summarize-profile.js';

/** Every file under dir whose name ends with `extension` (one folder per service), parsed and summarised, in path order. */
async function summarizeFiles<P, S>(
  dir: string,
  extension: string,
  summarize: (profile: P) => S,
): Promise<Array<{ file: string; summary: S }>> {
  // a service that wrote nothing (it was killed) leaves no folder
  const entries = await readdir(dir, { recursive: true }).catch(() => []);
  const files = entries
    .map(String)
    .filter((entry) => entry.endsWith(extension))
    .map((entry) => join(dir, entry))
    .sort();
  const summaries: Array<{ file: string; summary: S }> = [];
  for (const file of files) summaries.push({ file, summary: summarize(JSON.parse(await readFile(file, 'utf8')) as P) });
  return summaries;
}

/**
 * Every .cpuprofile under dir (one folder per service; the tsx loader thread writes one of its own), summarised over
 * the measurement window: top 20 functions and packages by self time.
 */
export function summarizeProfileFiles(
  dir: string,
  window: MonotonicWindow,
): Promise<Array<{ file: string; summary: ProfileSummary }>> {
  return summarizeFiles(dir, '.cpuprofile', (profile: CpuProfile) => summarizeProfile(profile, 20, window));
}

/** Every .heapprofile under dir (alloc-sampler.mjs), summarised: top 20 by self and inclusive bytes. */
export function summarizeAllocProfileFiles(dir: string): Promise<Array<{ file: string; summary: AllocSummary }>> {
  return summarizeFiles(dir, '.heapprofile', (profile: AllocProfile) => summarizeAllocProfile(profile, 20));
}
