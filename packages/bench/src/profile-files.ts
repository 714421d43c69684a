import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeProfile, type CpuProfile, type MonotonicWindow, type ProfileSummary } from './summarize-profile.js';

/**
 * Every .cpuprofile under dir (one folder per service; the tsx loader thread writes one of its own), summarised over
 * the measurement window: top 20 functions and packages by self time.
 */
export async function summarizeProfileFiles(
  dir: string,
  window: MonotonicWindow,
): Promise<Array<{ file: string; summary: ProfileSummary }>> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { recursive: true }))
    if (String(entry).endsWith('.cpuprofile')) files.push(join(dir, String(entry)));
  const summaries: Array<{ file: string; summary: ProfileSummary }> = [];
  for (const file of files.sort()) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    summaries.push({ file, summary: summarizeProfile(profile, 20, window) });
  }
  return summaries;
}
