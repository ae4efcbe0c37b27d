/**
 * How far into one file every line has been delivered: the offset the sincedb may record.
 *
 * Lines are pushed in file order, but their delivery callbacks can come back out of order (up to
 * `pipeline.workers` batches are in flight, a batch that only went to a fast output, or whose
 * events were all dropped, completes before an earlier one that went to a slow output). So the
 * lines are grouped in runs of consecutive lines (segments, at most SEGMENT_LINES each) that share
 * one callback and a count of lines still out; the watermark moves over a segment only when it and
 * every segment before it have been delivered. One closure per segment, not per line.
 *
 * A segment holds itself open while it is being filled (as the redis input's EntryBatch does), so
 * a sink that calls back synchronously cannot settle it before its end offset is known.
 */
export const SEGMENT_LINES = 64;

/** Lines pushed and not yet delivered, over every file; `idle()` resolves when there are none. */
export class Outstanding {
  count = 0;
  private waiters: (() => void)[] = [];

  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  done(): void {
    if (--this.count === 0 && this.waiters.length > 0) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    }
  }
}

class Segment {
  /** Offset just after this segment's last line (set when sealed). */
  end = -1;
  /** The bytes before `end` (the sincedb's rewrite check). */
  tail: Buffer = EMPTY;
  lines = 0;
  /** Lines still out, plus one while the segment is open. */
  remaining = 1;
  readonly delivered: () => void;

  constructor(tracker: DeliveryTracker, outstanding: Outstanding) {
    this.delivered = () => {
      outstanding.done();
      if (--this.remaining === 0) tracker.advance();
    };
  }
}

const EMPTY = Buffer.alloc(0);

export class DeliveryTracker {
  private segments: Segment[] = [];
  private head = 0;
  private open: Segment | undefined;
  private detached = false;
  /** Where the last sealed segment ends. */
  sealedEnd: number;

  /**
   * @param watermark where the file was delivered up to when reading started (the saved offset)
   * @param onAdvance called with the number of lines the watermark moved over
   */
  constructor(
    public watermark: number,
    public tail: Buffer,
    private readonly outstanding: Outstanding,
    private readonly onAdvance: (lines: number) => void,
  ) {
    this.sealedEnd = watermark;
  }

  /** Counts one more line into the open segment; returns its delivery callback when `track`. */
  add(track: boolean): (() => void) | undefined {
    let s = this.open;
    if (s === undefined) {
      s = this.open = new Segment(this, this.outstanding);
      this.segments.push(s);
    }
    s.lines++;
    if (!track) return undefined;
    s.remaining++;
    this.outstanding.count++;
    return s.delivered;
  }

  /** Lines in the open segment. */
  get openLines(): number {
    return this.open?.lines ?? 0;
  }

  /**
   * Closes the open segment at `end` (the offset after its last complete line). Bytes skipped
   * without a line (the rest of an oversize line) still move the offset: an empty segment then.
   */
  seal(end: number, tail: Buffer): void {
    let s = this.open;
    if (s === undefined) {
      s = new Segment(this, this.outstanding);
      this.segments.push(s);
    }
    this.open = undefined;
    this.sealedEnd = s.end = end;
    s.tail = tail;
    if (--s.remaining === 0) this.advance();
  }

  /** True when every line counted so far has been delivered and nothing is open. */
  get idle(): boolean {
    return this.open === undefined && this.head === this.segments.length;
  }

  /** The file was truncated or replaced: what is still out no longer moves any offset. */
  detach(): void {
    this.detached = true;
  }

  /** Moves the watermark over the delivered segments at the front. */
  advance(): void {
    if (this.detached) return;
    const segs = this.segments;
    let lines = 0;
    let h = this.head;
    while (h < segs.length && segs[h]!.remaining === 0) {
      const s = segs[h++]!;
      this.watermark = s.end;
      this.tail = s.tail;
      lines += s.lines;
    }
    if (h === this.head) return;
    if (h === segs.length) {
      this.segments = [];
      this.head = 0;
    } else if (h > 1024 && h * 2 > segs.length) {
      this.segments = segs.slice(h);
      this.head = 0;
    } else this.head = h;
    this.onAdvance(lines);
  }
}
