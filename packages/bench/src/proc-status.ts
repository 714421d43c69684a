import { readdir, readFile, writeFile } from 'node:fs/promises';

export interface ProcessMemory {
  /** peak resident set (VmHWM), MiB */
  peakRssMb: number;
  /** current resident set (VmRSS), MiB */
  rssMb: number;
}

/** Reads VmHWM and VmRSS of a live process from /proc/<pid>/status (Linux). */
export async function readProcessMemory(pid: number): Promise<ProcessMemory> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return { peakRssMb: parseStatusKb(text, 'VmHWM') / 1024, rssMb: parseStatusKb(text, 'VmRSS') / 1024 };
}

/**
 * Restarts a process's peak resident set (VmHWM) from its current RSS (Linux ≥ 4.0: `5` into /proc/<pid>/clear_refs),
 * so a later VmHWM is the peak since now: the peak of a measured window, without the warm-up's.
 */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

export function parseStatusKb(statusText: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(statusText);
  if (!match) throw new Error(`no ${field} in /proc status`);
  return Number(match[1]);
}

/** utime + stime of a process in seconds (/proc/<pid>/stat; clock ticks of 1/100 s on Linux). */
export async function readCpuSeconds(pid: number): Promise<number> {
  return parseStatCpuSeconds(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

const CLOCK_TICKS_PER_SECOND = 100;

export function parseStatCpuSeconds(statText: string): number {
  // fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based)
  const rest = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS_PER_SECOND;
}

/** The parent pid of a live process (/proc/<pid>/stat field 4). */
export async function readParentPid(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Total CPU seconds of a Postgres server: the postmaster and its children (backends, checkpointer, WAL writer, ...). */
export async function readPostgresCpuSeconds(postmasterPid: number): Promise<number> {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === postmasterPid || ppid === postmasterPid) total += parseStatCpuSeconds(stat);
    } catch {
      // the process exited while we looked
    }
  }
  return total;
}

/** CPU seconds the whole machine spent busy, and in all (every core), since boot (/proc/stat's cpu line). */
export async function readMachineCpu(): Promise<{ busy: number; total: number }> {
  return parseMachineCpu(await readFile('/proc/stat', 'utf8'));
}

export function parseMachineCpu(statText: string): { busy: number; total: number } {
  const fields = (statText.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / CLOCK_TICKS_PER_SECOND, total: (busy + idle + iowait) / CLOCK_TICKS_PER_SECOND };
}

/** Share of all cores busy over `ms` (0..1). */
export async function sampleMachineBusy(ms: number): Promise<number> {
  const before = await readMachineCpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await readMachineCpu();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
