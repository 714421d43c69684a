/** An abortable wait: `wait(ms)` ends after ms, or as soon as `signal()` is called (a wake-up that came early is kept). */
export class WakeSignal {
  private pending = false;
  private release: (() => void) | undefined;

  signal(): void {
    if (this.release) {
      const release = this.release;
      this.release = undefined;
      release();
    } else {
      this.pending = true;
    }
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.release = undefined;
        resolve();
      }, ms);
      this.release = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
