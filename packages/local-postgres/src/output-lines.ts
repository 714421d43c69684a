import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Keeps the last `capacity` lines of a process's output, for error messages. */
export class RecentLines {
  private readonly lines: string[] = [];

  constructor(private readonly capacity = 40) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Calls onLine for every line the stream emits (a trailing partial line included). */
export function forwardLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
