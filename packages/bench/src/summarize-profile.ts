import { basename, dirname } from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) that self time needs. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeEntry {
  name: string;
  selfMs: number;
  /** share of the busy (non-idle) time, in percent */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  functions: SelfTimeEntry[];
  packages: SelfTimeEntry[];
  /** self time of native code (socket writes, crypto, ...) charged to the nearest package/folder that called it */
  nativeByCaller: SelfTimeEntry[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Where a script URL comes from: an npm package, a workspace folder, a Node internal module. */
export function classifyUrl(url: string): string {
  if (url === '') return '(native/V8)';
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pnpm) return pnpm[1]!;
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (plain) return plain[1]!;
  const workspace = /\/(services|packages|sdk|scripts)\/([^/]+)\//.exec(url);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

function shortLocation(url: string, line: number): string {
  const file = url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')
    .replace(/^.*\/(services|packages|sdk|scripts)\//, '$1/');
  return file ? `${file}:${line + 1}` : '';
}

/** A time range on the monotonic clock in microseconds (V8 profile timestamps, process.hrtime / 1000). */
export interface MonotonicWindow {
  startUs: number;
  endUs: number;
}

export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time per function and per package/folder, from the samples (each sample owns the time until the next one);
 * with a window, only the samples taken inside it (the measurement, not start-up and warm-up).
 */
export function summarizeProfile(profile: CpuProfile, top = 25, window?: MonotonicWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const selfMicros = new Map<number, number>();
  let t = profile.startTime + (deltas[0] ?? 0);
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? t + (deltas[i + 1] ?? 0) : profile.endTime;
    if (!window || (t >= window.startUs && t <= window.endUs))
      selfMicros.set(samples[i]!, (selfMicros.get(samples[i]!) ?? 0) + Math.max(0, next - t));
    t = next;
  }
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const callerPackage = (id: number): string => {
    for (let at = parentOf.get(id); at !== undefined; at = parentOf.get(at)) {
      const url = byId.get(at)?.callFrame.url ?? '';
      if (url !== '' && !url.startsWith('node:')) return classifyUrl(url);
    }
    return '(node internals only)';
  };
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  const nativeByCaller = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    total += micros;
    if (frame.functionName === '(idle)') {
      idle += micros;
      continue;
    }
    const special = SPECIAL.has(frame.functionName);
    const name = special
      ? frame.functionName
      : `${frame.functionName || '(anonymous)'} ${shortLocation(frame.url, frame.lineNumber)}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const pkg = special ? frame.functionName : classifyUrl(frame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    if (pkg === '(native/V8)') {
      const caller = `${frame.functionName} ← ${callerPackage(id)}`;
      nativeByCaller.set(caller, (nativeByCaller.get(caller) ?? 0) + micros);
    }
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>): SelfTimeEntry[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({
        name,
        selfMs: Math.round(micros / 100) / 10,
        pct: busy > 0 ? Math.round((micros / busy) * 1000) / 10 : 0,
      }));
  return {
    totalMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    busyMs: Math.round(busy / 1000),
    functions: rank(functions),
    packages: rank(packages),
    nativeByCaller: rank(nativeByCaller),
  };
}

/**
 * The CPU seconds of the process a profile file belongs to (`…/<api|engine-N>/CPU….cpuprofile`, as the bench writes
 * them), from a result's per-process CPU; undefined for another path.
 */
export function profiledProcessCpuSeconds(
  file: string,
  cpuSeconds: { api: number; engines: number[] },
): number | undefined {
  const folder = basename(dirname(file));
  if (folder === 'api') return cpuSeconds.api;
  const engine = /^engine-(\d+)$/.exec(folder);
  return engine ? cpuSeconds.engines[Number(engine[1]) - 1] : undefined;
}

/**
 * `processCpuSeconds`: what the process spent on CPU in the same window, all its threads, beside the profile's "busy":
 * V8's profiler samples by the wall clock, so "busy" also counts the time the main thread sat preempted, waiting for a
 * core. With more busy processes than cores, that time lands on the native call that woke another process (a socket
 * `writev` to Postgres, a `writeString` to a pipe), which then looks expensive (docs/performance.md#reading-profiles).
 */
export function formatProfileSummary(summary: ProfileSummary, processCpuSeconds?: number): string {
  const lines = [
    `profile: ${summary.totalMs} ms sampled, ${summary.busyMs} ms busy, ${summary.idleMs} ms idle` +
      (processCpuSeconds === undefined
        ? ''
        : `; the process's CPU in the same window (all threads): ${Math.round(processCpuSeconds * 1000)} ms — ` +
          '"busy" is wall-clock time, preemption included'),
    '',
    '| self ms | % busy | function |',
    '|---:|---:|---|',
    ...summary.functions.map((f) => `| ${f.selfMs} | ${f.pct} | \`${f.name}\` |`),
    '',
    '| self ms | % busy | package / folder |',
    '|---:|---:|---|',
    ...summary.packages.map((p) => `| ${p.selfMs} | ${p.pct} | ${p.name} |`),
    '',
    '| self ms | % busy | native function ← calling package/folder |',
    '|---:|---:|---|',
    ...summary.nativeByCaller.map((p) => `| ${p.selfMs} | ${p.pct} | ${p.name} |`),
  ];
  return lines.join('\n');
}
