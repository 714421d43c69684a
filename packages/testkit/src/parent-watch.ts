// Preloaded (node --import) into every process spawnService starts. The child holds an IPC channel to
// the test process; when that process goes away by any means (even SIGKILL of a vitest worker), the
// channel closes and the service receives SIGTERM (SIGKILL 10 s later), so no service outlives its test.
const channel = (process as { channel?: { unref(): void } }).channel;
if (channel) {
  channel.unref(); // the channel alone must not keep the service alive
  process.once('disconnect', () => {
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}
export {};
