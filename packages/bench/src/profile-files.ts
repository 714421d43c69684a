import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { summarizeAllocProfile, type AllocProfile, type AllocSummary } from './summarize-alloc-profile.js';
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

/** Every .heapprofile under dir (alloc-sampler.mjs: one folder per service), summarised: top 20 by self and inclusive bytes. */
export async function summarizeAllocProfileFiles(dir: string): Promise<Array<{ file: string; summary: AllocSummary }>> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { recursive: true }).catch(() => []))
    if (String(entry).endsWith('.heapprofile')) files.push(join(dir, String(entry)));
  const summaries: Array<{ file: string; summary: AllocSummary }> = [];
  for (const file of files.sort()) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as AllocProfile;
    summaries.push({ file, summary: summarizeAllocProfile(profile, 20) });
  }
  return summaries;
}
