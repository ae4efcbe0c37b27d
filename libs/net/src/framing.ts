/**
 * Splits one TCP byte stream into syslog frames: newline-terminated lines (LF or CRLF,
 * "non-transparent framing") or RFC 6587 octet counting ("LEN SP MSG"). The kind is detected once
 * per connection, from its first bytes: octet counting only when they read `digits SP <`, so a
 * plain line that happens to start with a number is never mistaken for a count.
 *
 * Limits: a frame longer than `maxFrameBytes` yields its first `maxFrameBytes` bytes (flagged
 * truncated) and the rest is discarded without being buffered, so one 10 MB line costs at most
 * `maxFrameBytes` of memory. A frame that does not start with a count on an octet-counted
 * connection (a count that lied) is read as a line up to the next LF and counted as a framing error.
 * Frames are bytes (a view of the connection's chunk or of the buffered parts, valid during the
 * call): the codec decodes them by its charset.
 */
export interface FrameSink {
  /** One complete frame; `truncated` when the frame was longer than the limit. */
  frame(bytes: Buffer, truncated: boolean): void;
  /** A frame over the limit started (counted once per frame). */
  oversize(): void;
  /** A frame on an octet-counted connection had no valid count. */
  framingError(): void;
}

const LF = 10;
const CR = 13;
const SP = 32;
const LT = 60; // '<'
const isDigit = (b: number) => b >= 48 && b <= 57;
/** Longest count we accept: 9 digits (< 1 GB), far above any sane frame limit. */
const MAX_COUNT_DIGITS = 9;

const enum Mode {
  Detect,
  Lines,
  Octet,
}

const enum OctetState {
  /** Before a frame: skipping separators, reading the count's digits. */
  Header,
  /** Reading `remaining` body bytes. */
  Body,
  /** Discarding the rest of an oversized body. */
  Skip,
  /** No valid count: reading this frame as a line up to the next LF. */
  Line,
}

export class Framer {
  private mode = Mode.Detect;
  /** Buffered bytes of the current, incomplete frame (never more than maxFrameBytes in total). */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Inside a line that has not ended yet (its head may be in `parts`). */
  private inLine = false;
  /** Inside an oversized line whose head was emitted: dropping bytes until the next LF. */
  private discarding = false;
  private octet = OctetState.Header;
  private count = 0;
  private countDigits = 0;
  private remaining = 0;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly out: FrameSink,
  ) {}

  /** The framing this connection uses, once known. */
  get framing(): 'unknown' | 'lf' | 'octet' {
    return this.mode === Mode.Detect ? 'unknown' : this.mode === Mode.Lines ? 'lf' : 'octet';
  }

  push(chunk: Buffer): void {
    if (this.mode === Mode.Detect) {
      chunk = this.detect(chunk);
      if (this.mode === Mode.Detect) return;
    }
    if (this.mode === Mode.Lines) {
      let start = 0;
      const len = chunk.length;
      while (start < len) start = this.line(chunk, start);
    } else this.octets(chunk);
  }

  /** End of stream: a partial last frame is still a frame (an oversized one was already emitted). */
  end(): void {
    if (this.countDigits > 0) {
      // only a count arrived, no space: it was text
      this.parts.push(Buffer.from(String(this.count)));
      this.partsLength += this.countDigits;
      this.countDigits = 0;
    }
    const skipped = this.discarding || (this.mode === Mode.Octet && this.octet === OctetState.Skip);
    if (this.partsLength > 0 && !this.discarding) this.emitParts(Buffer.alloc(0), 0, 0, skipped, this.mode !== Mode.Octet || this.octet === OctetState.Line);
    this.parts = [];
    this.partsLength = 0;
    this.inLine = this.discarding = false;
  }

  /** Buffers the connection's first bytes until the framing is known. */
  private detect(chunk: Buffer): Buffer {
    const head = this.partsLength ? Buffer.concat([...this.parts, chunk]) : chunk;
    let i = 0;
    while (i < head.length && i <= MAX_COUNT_DIGITS && isDigit(head[i]!)) i++;
    let decided: Mode | undefined;
    if (i === 0 || head[0] === 48 || i > MAX_COUNT_DIGITS) decided = Mode.Lines;
    else if (i < head.length && head[i] !== SP) decided = Mode.Lines;
    else if (i + 1 < head.length) decided = head[i + 1] === LT ? Mode.Octet : Mode.Lines;
    this.parts = [];
    this.partsLength = 0;
    if (decided === undefined) {
      // only digits (and maybe the space) so far: wait for the next bytes
      this.parts.push(Buffer.from(head));
      this.partsLength = head.length;
    } else this.mode = decided;
    return head;
  }

  /**
   * Consumes one line (or the part of it in this chunk) from `start`; returns where reading
   * continues. The common case, a whole line inside the chunk, decodes straight from the chunk.
   */
  private line(chunk: Buffer, start: number): number {
    const len = chunk.length;
    const nl = chunk.indexOf(LF, start);
    const end = nl < 0 ? len : nl;
    const next = nl < 0 ? len : nl + 1;
    if (this.discarding) {
      if (nl >= 0) this.discarding = this.inLine = false;
      return next;
    }
    const max = this.maxFrameBytes;
    if (this.partsLength === 0 && nl >= 0 && end - start <= max) {
      this.inLine = false;
      this.out.frame(chunk.subarray(start, end > start && chunk[end - 1] === CR ? end - 1 : end), false);
      return next;
    }
    const room = max - this.partsLength;
    if (end - start > room) {
      this.parts.push(chunk.subarray(start, start + room));
      this.partsLength += room;
      this.out.oversize();
      this.emitParts(chunk, 0, 0, true, false);
      this.discarding = this.inLine = nl < 0;
      return next;
    }
    if (nl < 0) {
      // copy: a slice would pin the whole socket chunk for a few bytes
      this.parts.push(Buffer.from(chunk.subarray(start, end)));
      this.partsLength += end - start;
      this.inLine = true;
      return next;
    }
    this.inLine = false;
    this.emitParts(chunk, start, end, false, true);
    return next;
  }

  /** Emits buffered parts + chunk[start, end) as one frame. */
  private emitParts(chunk: Buffer, start: number, end: number, truncated: boolean, stripCR: boolean): void {
    if (end > start) this.parts.push(chunk.subarray(start, end));
    const total = this.partsLength + (end - start);
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, total);
    this.parts = [];
    this.partsLength = 0;
    let stop = total;
    if (stripCR) {
      if (!truncated && stop > 0 && whole[stop - 1] === CR) stop--;
    } else if (!truncated && stop > 0 && whole[stop - 1] === LF) {
      // an octet-counted frame that ends with the sender's line end (rsyslog's 5424 templates do)
      stop--;
      if (stop > 0 && whole[stop - 1] === CR) stop--;
    }
    this.out.frame(whole.subarray(0, stop), truncated);
  }

  // ---- octet counting ----

  private octets(chunk: Buffer): void {
    const len = chunk.length;
    const max = this.maxFrameBytes;
    let start = 0;
    while (start < len) {
      switch (this.octet) {
        case OctetState.Header: {
          const b = chunk[start]!;
          if (this.countDigits === 0 && (b === LF || b === CR || b === SP)) {
            start++; // stray separators between frames (some senders end each frame with LF)
          } else if (isDigit(b) && this.countDigits < MAX_COUNT_DIGITS && !(this.countDigits === 0 && b === 48)) {
            this.count = this.count * 10 + (b - 48);
            this.countDigits++;
            start++;
          } else if (b === SP && this.countDigits > 0) {
            start++;
            this.remaining = this.count;
            this.count = this.countDigits = 0;
            if (this.remaining > max) {
              this.out.oversize();
              this.octet = OctetState.Skip;
            } else this.octet = OctetState.Body;
          } else {
            // not a count (a count that lied lands here): read this frame as a line
            this.out.framingError();
            if (this.countDigits > 0) {
              this.parts.push(Buffer.from(String(this.count)));
              this.partsLength += this.countDigits;
            }
            this.count = this.countDigits = 0;
            this.octet = OctetState.Line;
          }
          break;
        }
        case OctetState.Line:
          start = this.line(chunk, start);
          if (!this.inLine) this.octet = OctetState.Header;
          break;
        case OctetState.Body:
        case OctetState.Skip: {
          const take = Math.min(this.remaining, len - start);
          const keep = this.octet === OctetState.Body ? take : Math.min(take, max - this.partsLength);
          if (keep > 0) {
            const whole = this.partsLength === 0 && this.remaining === take;
            this.parts.push(whole ? chunk.subarray(start, start + keep) : Buffer.from(chunk.subarray(start, start + keep)));
            this.partsLength += keep;
          }
          this.remaining -= take;
          start += take;
          if (this.remaining === 0) {
            const truncated = this.octet === OctetState.Skip;
            this.octet = OctetState.Header;
            this.emitParts(chunk, 0, 0, truncated, false);
          }
          break;
        }
      }
    }
  }
}
