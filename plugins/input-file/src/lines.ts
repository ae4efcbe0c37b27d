/**
 * Splits a file's bytes into lines on a delimiter, telling where each line ends, so the saved
 * offset always points at the start of a line: a restart re-reads a partial last line instead of
 * losing or repeating it. A line longer than `maxBytes` is cut (its head is emitted, flagged) and
 * the rest skipped without being buffered. Lines are bytes: the codec decodes them by its charset.
 * A line may be a view of the reader's buffer, valid only during the call.
 */
export type LineFn = (bytes: Buffer, truncated: boolean, end: number) => void;

export class LineSplitter {
  private parts: Buffer[] = [];
  private partsLength = 0;
  private skipping = false;

  constructor(
    private readonly delimiter: Buffer,
    private readonly maxBytes: number,
  ) {}

  /**
   * Feeds bytes; calls `line` for each complete line with `end`, the index in `chunk` just after
   * its delimiter (-1 for the head of an oversize line cut before its delimiter was seen). Returns
   * the index just after the last delimiter in `chunk` (skipped oversize tails included), i.e.
   * where the committed offset moves to, or -1 when it does not move.
   */
  push(chunk: Buffer, line: LineFn): number {
    const d = this.delimiter;
    const dl = d.length;
    let start = 0;
    let committedEnd = -1;
    for (;;) {
      const at = d.length === 1 ? chunk.indexOf(d[0]!, start) : chunk.indexOf(d, start);
      if (at < 0) break;
      if (this.skipping) this.skipping = false;
      else if (this.partsLength > 0) {
        this.parts.push(chunk.subarray(start, at));
        const whole = Buffer.concat(this.parts, this.partsLength + at - start);
        this.parts = [];
        this.partsLength = 0;
        if (whole.length > this.maxBytes) line(whole.subarray(0, this.maxBytes), true, at + dl);
        else line(bytes(whole, 0, whole.length, dl), false, at + dl);
      } else if (at - start > this.maxBytes) line(chunk.subarray(start, start + this.maxBytes), true, at + dl);
      else line(bytes(chunk, start, at, dl), false, at + dl);
      start = at + dl;
      committedEnd = start;
    }
    if (start < chunk.length && !this.skipping) {
      const room = this.maxBytes - this.partsLength;
      if (chunk.length - start > room) {
        this.parts.push(chunk.subarray(start, start + room));
        const whole = Buffer.concat(this.parts, this.maxBytes);
        this.parts = [];
        this.partsLength = 0;
        line(whole, true, -1);
        this.skipping = true;
      } else {
        this.parts.push(Buffer.from(chunk.subarray(start)));
        this.partsLength += chunk.length - start;
      }
    }
    return committedEnd;
  }

  /** Forgets a partial line (the file was truncated or replaced). */
  reset(): void {
    this.parts = [];
    this.partsLength = 0;
    this.skipping = false;
  }

  /** The partial last line, for read mode's end of file. */
  takeRest(): Buffer | undefined {
    if (this.partsLength === 0) return undefined;
    const s = Buffer.concat(this.parts, this.partsLength);
    this.reset();
    return s;
  }
}

/** A line's bytes without a CR before an LF delimiter. */
function bytes(buf: Buffer, start: number, end: number, dl: number): Buffer {
  if (dl === 1 && end > start && buf[end - 1] === 13) end--;
  return buf.subarray(start, end);
}
