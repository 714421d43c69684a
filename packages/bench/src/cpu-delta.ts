import type { CpuSample } from './service-stack.js';

const round = (n: number): number => Math.round(n * 100) / 100;

/** CPU seconds each process spent between two samples. */
export function diffCpu(before: CpuSample, after: CpuSample): CpuSample {
  return {
    api: round(after.api - before.api),
    engines: after.engines.map((e, i) => round(e - (before.engines[i] ?? 0))),
    downstream: round(after.downstream - before.downstream),
    postgres: round(after.postgres - before.postgres),
    bench: round(after.bench - before.bench),
    machineBusy: round(after.machineBusy - before.machineBusy),
    machineTotal: round(after.machineTotal - before.machineTotal),
  };
}

/** Share of all cores that processes other than the bench's kept busy (0..1). */
export function otherLoad(cpu: CpuSample): number {
  const ours = cpu.api + cpu.engines.reduce((total, e) => total + e, 0) + cpu.downstream + cpu.postgres + cpu.bench;
  return cpu.machineTotal > 0
    ? Math.max(0, Math.round(((cpu.machineBusy - ours) / cpu.machineTotal) * 100) / 100)
    : Number.NaN;
}
