/**
 * SEC's input buffers: the last N lines, N the largest line count of a RegExpN/SubStrN pattern,
 * that multi-line patterns match against (the newest line last). Input lines and synthetic events
 * share one buffer when N is 1; otherwise synthetic events have their own (sec's jointbuf off).
 * rewrite replaces the newest lines in the buffer of the current event.
 */
export class InputBuffers {
  /** Is the current event synthetic (an `event` action's, a child's line)? */
  synthetic = false;
  private readonly joint: boolean;
  private readonly input: { lines: string[]; pos: number };
  private readonly synth: { lines: string[]; pos: number };

  constructor(readonly size: number) {
    this.joint = size === 1;
    this.input = { lines: new Array<string>(size).fill(''), pos: size - 1 };
    this.synth = { lines: new Array<string>(size).fill(''), pos: size - 1 };
  }

  /** The next event: it becomes the newest line of its buffer. */
  push(line: string, synthetic: boolean): void {
    this.synthetic = synthetic;
    const b = this.current();
    if (this.size === 1) {
      b.lines[0] = line;
      return;
    }
    b.pos = (b.pos + 1) % this.size;
    b.lines[b.pos] = line;
  }

  /** The newest `n` lines of the current event's buffer, oldest first, joined by newlines. */
  text(n: number): string {
    const b = this.current();
    if (this.size === 1) return b.lines[0]!;
    const out: string[] = [];
    for (let k = n - 1; k >= 0; k--) out.push(b.lines[(b.pos - k + this.size * n) % this.size]!);
    return out.join('\n');
  }

  /**
   * rewrite: the newest `count` lines become `lines` (0 = as many as given; at most the buffer's
   * size; missing ones are empty, oldest first; extra ones are dropped).
   */
  rewrite(count: number, lines: string[]): void {
    if (!count) {
      if (!lines.length) return;
      count = lines.length;
    }
    if (count > this.size) count = this.size;
    if (lines.length > count) lines = lines.slice(0, count);
    while (lines.length < count) lines.unshift('');
    const b = this.current();
    if (this.size === 1) {
      b.lines[0] = lines[0]!;
      return;
    }
    for (let k = 0; k < count; k++) b.lines[(b.pos - (count - 1 - k) + this.size * count) % this.size] = lines[k]!;
  }

  private current(): { lines: string[]; pos: number } {
    return this.joint || !this.synthetic ? this.input : this.synth;
  }
}
