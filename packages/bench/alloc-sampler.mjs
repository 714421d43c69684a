// Loaded into the API and the engines by `pnpm bench --alloc-profile` (node --import; plain JavaScript, so it also
// runs in the compiled bundles). V8's sampling heap profiler, keeping the objects the garbage collector has already
// freed: the profile is what was allocated, and where, not what is still live. Sampling starts at SIGUSR2 (the bench
// sends it when the measured window begins) and the profile is written to $BENCH_ALLOC_PROFILE_DIR/<pid>.heapprofile
// when the process exits (a graceful stop). Scripts may read process.env; this file is a bench hook, not service code.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_ALLOC_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let sampling = false;
  process.on('SIGUSR2', () => {
    if (sampling) return;
    sampling = true;
    session.post('HeapProfiler.enable');
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  });
  process.once('exit', () => {
    if (!sampling) return;
    // an in-process session answers synchronously
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
