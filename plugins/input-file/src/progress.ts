/**
 * Read mode's progress line on a terminal: bytes read of the total, lines per second and the time
 * left, redrawn in place on stderr (as `pipeline replay` draws its bar). Only when stderr is a
 * TTY, and only for reads of at least PROGRESS_MIN_BYTES: a small file is read before a line
 * would say anything.
 */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

export interface TtyLike {
  isTTY?: boolean;
  write(s: string): unknown;
}

const mib = (b: number) => (b / 1048576).toFixed(1);
const minutes = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}` : '--:--');

/** The line for `bytes` of `total` and `lines` read `secs` after the start. */
export function progressLine(bytes: number, total: number, lines: number, secs: number): string {
  const share = total > 0 ? Math.min(1, bytes / total) : 1;
  const width = 30;
  const full = Math.round(share * width);
  const eta = share > 0 ? (secs / share) * (1 - share) : Infinity;
  const rate = Math.round(lines / Math.max(secs, 0.001)).toLocaleString('en-US');
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(share * 100).toFixed(0).padStart(3)}%  ${mib(bytes)}/${mib(total)} MiB  ${rate} lines/s  ETA ${minutes(eta)}`;
}

export class ReadProgress {
  private start = -1;
  private lines0 = 0;
  private shown = false;

  constructor(private readonly out: TtyLike) {}

  get enabled(): boolean {
    return this.out.isTTY === true;
  }

  /** Redraws the line (called on a timer); clears it once everything is read. */
  update(bytes: number, total: number, lines: number, nowMs: number): void {
    if (!this.enabled) return;
    if (total < PROGRESS_MIN_BYTES || bytes >= total) {
      this.clear();
      this.start = -1;
      return;
    }
    if (this.start < 0) {
      this.start = nowMs;
      this.lines0 = lines;
    }
    this.out.write(`\r${progressLine(bytes, total, lines - this.lines0, (nowMs - this.start) / 1000)}\u001b[K`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.out.write('\r\u001b[K');
    this.shown = false;
  }
}
