/** A V8 sampling heap profile (HeapProfiler.stopSampling's `profile`), as alloc-sampler.mjs writes it. */
export interface AllocProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocProfileNode[];
}

export interface AllocProfile {
  head: AllocProfileNode;
}

export interface AllocEntry {
  /** function and place: `name file:line` */
  frame: string;
  bytes: number;
  /** of everything allocated */
  share: number;
}

export interface AllocSummary {
  totalBytes: number;
  /** by the function that allocated */
  self: AllocEntry[];
  /** by every function on the stack when it was allocated (what it and its callees allocated); frames with a script only */
  inclusive: AllocEntry[];
}

function frameName(callFrame: AllocProfileNode['callFrame']): string {
  const file = callFrame.url.slice(callFrame.url.lastIndexOf('/') + 1);
  return `${callFrame.functionName || '(anonymous)'} ${file}:${callFrame.lineNumber + 1}`;
}

function top(map: Map<string, number>, total: number, n: number): AllocEntry[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, bytes]) => ({ frame, bytes, share: total > 0 ? bytes / total : 0 }));
}

/**
 * Where the bytes were allocated: the top `n` functions by what they allocated themselves, and by what was allocated
 * while they were on the stack (a recursive function counted once per stack). V8 attributes a function inlined into
 * another to the outer one.
 */
export function summarizeAllocProfile(profile: AllocProfile, n = 20): AllocSummary {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  /** the frames counted inclusively on the current stack: a recursive call below one of them is not counted again */
  const onStack = new Set<string>();
  let totalBytes = 0;
  const walk = (node: AllocProfileNode): number => {
    const name = frameName(node.callFrame);
    const counted = node.callFrame.url !== '' && !onStack.has(name);
    if (counted) onStack.add(name);
    let bytes = node.selfSize;
    totalBytes += node.selfSize;
    if (node.selfSize > 0) self.set(name, (self.get(name) ?? 0) + node.selfSize);
    for (const child of node.children) bytes += walk(child);
    if (counted) {
      onStack.delete(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + bytes);
    }
    return bytes;
  };
  walk(profile.head);
  return { totalBytes, self: top(self, totalBytes, n), inclusive: top(inclusive, totalBytes, n) };
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const pct = (share: number): string => (share * 100).toFixed(1);

/** Markdown: the totals (per unit when given) and both tables. */
export function formatAllocSummary(summary: AllocSummary, units?: { count: number; unit: string }): string {
  const perUnit =
    units && units.count > 0 ? `, ${(summary.totalBytes / units.count / 1024).toFixed(1)} KiB per ${units.unit}` : '';
  const table = (title: string, entries: AllocEntry[]): string[] => [
    `| ${title} MB | % | function |`,
    '|---:|---:|---|',
    ...entries.map((e) => `| ${mb(e.bytes)} | ${pct(e.share)} | \`${e.frame}\` |`),
  ];
  return [
    `allocated in the window: ${mb(summary.totalBytes)} MB${perUnit} (sampled)`,
    '',
    ...table('self', summary.self),
    '',
    ...table('inclusive', summary.inclusive),
  ].join('\n');
}
