import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  parseMachineCpu,
  parseStatCpuSeconds,
  parseStatusKb,
  readProcessMemory,
  resetPeakRss,
} from '../src/proc-status.js';

describe('/proc parsing', () => {
  it('reads VmHWM and VmRSS in kB', () => {
    const status = 'Name:\tnode\nVmHWM:\t  162484 kB\nVmRSS:\t  150000 kB\n';
    expect(parseStatusKb(status, 'VmHWM')).toBe(162484);
    expect(parseStatusKb(status, 'VmRSS')).toBe(150000);
  });

  it('reads utime + stime after a command name with spaces and parentheses', () => {
    const fields = ['S', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '250', '50', '0'];
    expect(parseStatCpuSeconds(`123 (node (x) y) ${fields.join(' ')}`)).toBe(3);
  });

  it('reads the machine cpu line', () => {
    expect(parseMachineCpu('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3')).toEqual({ busy: 1.5, total: 10 });
  });

  it('reads this process', async () => {
    const memory = await readProcessMemory(process.pid);
    expect(memory.peakRssMb).toBeGreaterThanOrEqual(memory.rssMb);
  });
});

describe('resetPeakRss', () => {
  it('restarts the peak from the current RSS: a window after a spike does not see the spike', async () => {
    // a child that touches 200 MB, frees it (a large Buffer is its own mapping, unmapped when collected), then waits
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '-e',
        "let b = Buffer.alloc(200 * 1024 * 1024, 1); b = undefined; gc(); console.log('ready'); setInterval(() => {}, 1000);",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(child.stdout, 'data');
      const before = await readProcessMemory(child.pid!);
      expect(before.peakRssMb).toBeGreaterThan(200);
      expect(before.rssMb).toBeLessThan(150);
      await resetPeakRss(child.pid!);
      const after = await readProcessMemory(child.pid!);
      expect(after.peakRssMb).toBeLessThan(150);
      expect(after.peakRssMb).toBeGreaterThanOrEqual(after.rssMb);
    } finally {
      child.kill();
    }
  });
});
