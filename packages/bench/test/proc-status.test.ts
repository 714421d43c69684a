import { describe, expect, it } from 'vitest';
import { parseMachineCpu, parseStatCpuSeconds, parseStatusKb, readProcessMemory } from '../src/proc-status.js';

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
