import { gzipSync } from 'node:zlib';

/**
 * The acknowledgement of one batch (returned from `receive` as the core's PendingWrite): settled
 * once every file the batch added lines to has written them with `write()` (and fsync'ed them under
 * `fsync => batch`). `fail` leaves the batch unacknowledged, so the persisted queue keeps it.
 */
export class BatchAck {
  readonly written: Promise<void>;
  /** Files still holding lines of this batch; -1 once failed. */
  private remaining = 0;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;

  constructor() {
    this.written = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // a caller that ignores the result (a benchmark) must not die of an unhandled rejection
    this.written.catch(() => {});
  }

  /** True once every file wrote its lines (or the batch touched none): nothing to wait for. */
  get done(): boolean {
    return this.remaining === 0;
  }

  hold(): void {
    if (this.remaining >= 0) this.remaining++;
  }

  release(): void {
    if (this.remaining > 0 && --this.remaining === 0) this.resolve();
  }

  fail(err: unknown): void {
    if (this.remaining < 0) return;
    this.remaining = -1;
    this.reject(err);
  }
}

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
  /** Batches whose lines wait in the buffer. */
  acks: BatchAck[] = [];
  /** Bytes of a flush that failed part-way (already encoded/compressed), written before the rest. */
  unwritten: Buffer | undefined;
  unwrittenEvents = 0;
  unwrittenAcks: BatchAck[] = [];
  /** Written since the last fsync (`fsync => interval`). */
  unsynced = false;
  /** The directory entry was fsync'ed once since opening (`fsync => batch`). */
  dirSynced = false;
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

  /** Events held and not yet written (buffered or left by a failed write). */
  get waitingEvents(): number {
    return this.pendingEvents + this.unwrittenEvents;
  }

  /** Buffers `text`; `ack` (the batch's) is released once it is written. */
  add(text: string, events: number, overwrite: boolean, now: number, ack?: BatchAck): void {
    if (ack !== undefined) {
      ack.hold();
      this.acks.push(ack);
    }
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
  takeBytes(gzip: boolean): { bytes: Buffer; events: number; acks: BatchAck[] } {
    let bytes = this.buf === undefined ? Buffer.alloc(0) : this.buf.subarray(0, this.used);
    if (this.spill.length > 0) bytes = Buffer.concat([bytes, Buffer.from(this.spill.join(''), 'utf8')]);
    if (gzip && bytes.length > 0) bytes = gzipSync(bytes, { level: 6 });
    const events = this.pendingEvents;
    const acks = this.acks;
    this.used = 0;
    this.spill = [];
    this.pendingEvents = 0;
    this.acks = [];
    return { bytes, events, acks };
  }

  /** The buffered text and its batches (to move them to another file), emptying the buffer. */
  takeText(): { text: string; events: number; acks: BatchAck[] } {
    const text = (this.buf === undefined ? '' : this.buf.toString('utf8', 0, this.used)) + this.spill.join('');
    const events = this.pendingEvents;
    const acks = this.acks;
    this.clearPending();
    this.acks = [];
    return { text, events, acks };
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

  /** Drops everything buffered; returns how many events were lost and the batches they belonged to. */
  discard(): { events: number; acks: BatchAck[] } {
    const events = this.pendingEvents + this.unwrittenEvents;
    const acks = this.unwrittenAcks.concat(this.acks);
    this.clearPending();
    this.acks = [];
    this.unwritten = undefined;
    this.unwrittenEvents = 0;
    this.unwrittenAcks = [];
    return { events, acks };
  }
}
