import { gzipSync } from 'node:zlib';

/**
 * One file the output holds open, with the lines buffered for it since the last flush. `dev`/`ino`
 * identify what the descriptor points at, so a rename by logrotate (`create`) is noticed by a
 * stat of the path; `copytruncate` needs nothing, since appends (O_APPEND) land at the new end.
 */
export class OpenFile {
  /** Encoded text not yet written (append), or the latest event's text (overwrite). */
  pending = '';
  pendingEvents = 0;
  /** Bytes of a flush that failed part-way (already encoded/compressed), written before `pending`. */
  unwritten: Buffer | undefined;
  unwrittenEvents = 0;
  /** Consecutive flushes that failed (timer flushes retry up to a limit, then drop). */
  failedFlushes = 0;
  /** Clock time of the last event buffered for this file (stale cleanup). */
  lastUsed: number;
  /** Clock time of the last check that the path still names this descriptor's file. */
  lastIdentityCheck: number;

  constructor(
    readonly path: string,
    public fd: number,
    public dev: number,
    public ino: number,
    now: number,
    /** The failure file is created even when create_if_deleted is false. */
    readonly alwaysCreate: boolean,
  ) {
    this.lastUsed = now;
    this.lastIdentityCheck = now;
  }

  get dirty(): boolean {
    return this.pendingEvents > 0 || this.unwritten !== undefined;
  }

  add(text: string, events: number, overwrite: boolean, now: number): void {
    if (overwrite) {
      this.pending = text;
      this.pendingEvents = events;
    } else {
      this.pending += text;
      this.pendingEvents += events;
    }
    this.lastUsed = now;
  }

  /** Moves the buffered text into bytes to write (one gzip member per flush when gzip is on). */
  takeBytes(gzip: boolean): { bytes: Buffer; events: number } {
    let bytes = Buffer.from(this.pending, 'utf8');
    if (gzip && bytes.length > 0) bytes = gzipSync(bytes, { level: 6 });
    const events = this.pendingEvents;
    this.pending = '';
    this.pendingEvents = 0;
    return { bytes, events };
  }

  /** Drops everything buffered; returns how many events were lost. */
  discard(): number {
    const n = this.pendingEvents + this.unwrittenEvents;
    this.pending = '';
    this.pendingEvents = 0;
    this.unwritten = undefined;
    this.unwrittenEvents = 0;
    return n;
  }
}
