import { gzipSync } from 'node:zlib';

/** Bytes of the per-file write buffer (off the JS heap: buffered lines cost the GC nothing). */
export const BUFFER_BYTES = 64 * 1024;

/**
 * One file the output holds open, with the lines buffered for it since the last flush. `dev`/`ino`
 * identify what the descriptor points at, so a rename by logrotate (`create`) is noticed by a
 * stat of the path; `copytruncate` needs nothing, since appends (O_APPEND) land at the new end.
 *
 * Lines are copied into a Buffer as each batch's group arrives, so the encoded strings die young
 * (kept as strings across batches they were promoted to the old generation and the GC cost more
 * than the writing). Text that does not fit waits in `spill`, in order, until the next flush.
 */
export class OpenFile {
  private buf: Buffer | undefined;
  private used = 0;
  private spill: string[] = [];
  pendingEvents = 0;
  /** Bytes of a flush that failed part-way (already encoded/compressed), written before the rest. */
  unwritten: Buffer | undefined;
  unwrittenEvents = 0;
  /** Consecutive flushes that failed (timer flushes retry up to a limit, then drop). */
  failedFlushes = 0;
  /** Clock time of the last event buffered for this file (stale cleanup). */
  lastUsed: number;
  /** Clock time of the last check that the path still names this descriptor's file. */
  lastIdentityCheck: number;
  /** When a check first found the path missing while the open file had been renamed (not deleted). */
  missingSince: number | undefined;

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

  /** True when the buffer is nearly full (or overflowed): the caller writes it out now. */
  get full(): boolean {
    return this.spill.length > 0 || this.used >= BUFFER_BYTES - 4096;
  }

  add(text: string, events: number, overwrite: boolean, now: number): void {
    this.lastUsed = now;
    if (overwrite) this.clearPending();
    this.pendingEvents += events;
    // text.length * 3 bounds its UTF-8 size, so the copy never truncates
    if (this.spill.length === 0 && this.used + text.length * 3 <= BUFFER_BYTES) {
      this.buf ??= Buffer.allocUnsafe(BUFFER_BYTES);
      this.used += this.buf.write(text, this.used, 'utf8');
    } else this.spill.push(text);
  }

  /**
   * The buffered bytes to write (one gzip member per flush when gzip is on), and the buffer
   * emptied. The result may be a view of the buffer: write it before the next `add`.
   */
  takeBytes(gzip: boolean): { bytes: Buffer; events: number } {
    let bytes = this.buf === undefined ? Buffer.alloc(0) : this.buf.subarray(0, this.used);
    if (this.spill.length > 0) bytes = Buffer.concat([bytes, Buffer.from(this.spill.join(''), 'utf8')]);
    if (gzip && bytes.length > 0) bytes = gzipSync(bytes, { level: 6 });
    const events = this.pendingEvents;
    this.used = 0;
    this.spill = [];
    this.pendingEvents = 0;
    return { bytes, events };
  }

  /** The buffered text (to move it to another file), emptying the buffer. */
  takeText(): { text: string; events: number } {
    const text = (this.buf === undefined ? '' : this.buf.toString('utf8', 0, this.used)) + this.spill.join('');
    const events = this.pendingEvents;
    this.clearPending();
    return { text, events };
  }

  private clearPending(): void {
    this.used = 0;
    this.spill = [];
    this.pendingEvents = 0;
  }

  /** Frees the buffer of a closed file. */
  release(): void {
    this.buf = undefined;
  }

  /** Drops everything buffered; returns how many events were lost. */
  discard(): number {
    const n = this.pendingEvents + this.unwrittenEvents;
    this.clearPending();
    this.unwritten = undefined;
    this.unwrittenEvents = 0;
    return n;
  }
}
