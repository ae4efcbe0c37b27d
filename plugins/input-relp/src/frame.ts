/**
 * Splits a RELP byte stream into frames: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, where TXNR and
 * DATALEN are 1-9 digits and COMMAND 1-32 letters (the RELP specification; librelp enforces the same
 * limits). DATA is present only when DATALEN is not 0.
 *
 * Bounded against hostile peers: at most `maxDataBytes` of one frame's data are kept, the rest of a
 * longer frame is counted off without being buffered (the frame is delivered truncated, as imrelp's
 * default `oversizeMode="truncate"` does), so a 999,999,999-byte DATALEN costs nothing. Anything that
 * breaks the grammar (a letter in a number, a missing LF after DATA: a DATALEN that lied) is a
 * framing error, after which the parser reads no more: RELP closes such a session rather than guess.
 */
export const enum Command {
  Open,
  Syslog,
  Close,
  /** Any other command (the session answers it with a 500). */
  Other,
}

export interface FrameSink {
  /**
   * One complete frame. `data` is valid only during the call (it may be a view of the socket's
   * chunk). `name` is set for Command.Other only.
   */
  frame(txnr: number, command: Command, data: Buffer, truncated: boolean, name?: string): void;
  /** The stream broke the grammar; no frame follows. */
  error(reason: string): void;
}

const LF = 10;
const SP = 32;
const MAX_DIGITS = 9;
const MAX_COMMAND = 32;
const EMPTY = Buffer.alloc(0);

const enum State {
  Txnr,
  Command,
  Datalen,
  Data,
  Trailer,
  Failed,
}

const isDigit = (b: number) => b >= 48 && b <= 57;
const isAlpha = (b: number) => (b >= 65 && b <= 90) || (b >= 97 && b <= 122);

export class FrameParser {
  private state = State.Txnr;
  private digits = 0;
  private txnr = 0;
  private datalen = 0;
  /** Data bytes still to come for the current frame. */
  private remaining = 0;
  private readonly cmd = Buffer.alloc(MAX_COMMAND);
  private cmdLen = 0;
  /** Kept data of a frame split across chunks (never more than maxDataBytes in total). */
  private parts: Buffer[] = [];
  private kept = 0;
  private truncated = false;

  constructor(
    /** Longest data kept per frame; may change between frames (the session lowers it before `open`). */
    public maxDataBytes: number,
    private readonly out: FrameSink,
  ) {}

  /** True once a framing error was reported or stop() was called. */
  get stopped(): boolean {
    return this.state === State.Failed;
  }

  /** Reads nothing more (after `close`, or when the session gives up). */
  stop(): void {
    this.state = State.Failed;
    this.parts = [];
  }

  /** True while a frame has started but not ended (what a disconnect would cut short). */
  get inFrame(): boolean {
    return this.state !== State.Failed && (this.state !== State.Txnr || this.digits > 0);
  }

  push(chunk: Buffer): void {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      switch (this.state) {
        case State.Txnr: {
          const b = chunk[i++]!;
          if (isDigit(b) && this.digits < MAX_DIGITS) {
            this.txnr = this.txnr * 10 + (b - 48);
            this.digits++;
          } else if (b === SP && this.digits > 0) {
            this.state = State.Command;
            this.cmdLen = 0;
          } else return this.fail(this.digits === 0 ? 'a frame must start with its transaction number' : 'invalid transaction number');
          break;
        }
        case State.Command: {
          const b = chunk[i++]!;
          if (isAlpha(b) && this.cmdLen < MAX_COMMAND) this.cmd[this.cmdLen++] = b;
          else if (b === SP && this.cmdLen > 0) {
            this.state = State.Datalen;
            this.digits = 0;
            this.datalen = 0;
          } else return this.fail('invalid command');
          break;
        }
        case State.Datalen: {
          const b = chunk[i++]!;
          if (isDigit(b) && this.digits < MAX_DIGITS) {
            this.datalen = this.datalen * 10 + (b - 48);
            this.digits++;
          } else if (this.digits === 0) return this.fail('invalid data length');
          else if (this.datalen === 0) {
            if (b !== LF) return this.fail('a frame without data must end with LF');
            this.emit(EMPTY);
          } else if (b === SP) {
            this.remaining = this.datalen;
            this.kept = 0;
            this.truncated = this.datalen > this.maxDataBytes;
            this.state = State.Data;
          } else return this.fail('invalid data length');
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, len - i);
          const room = this.maxDataBytes - this.kept;
          if (take === this.remaining && this.kept === 0 && take <= room) {
            // the whole data in this chunk: a view, no copy
            this.parts.push(chunk.subarray(i, i + take));
            this.kept = take;
          } else if (room > 0) {
            const keep = Math.min(take, room);
            // a copy: a view would pin the whole socket chunk for a few bytes
            this.parts.push(Buffer.from(chunk.subarray(i, i + keep)));
            this.kept += keep;
          }
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.Trailer;
          break;
        }
        case State.Trailer: {
          if (chunk[i++] !== LF) return this.fail(`no LF after ${this.datalen} bytes of data (a data length that lied?)`);
          const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.kept);
          this.parts = [];
          this.emit(data);
          break;
        }
        case State.Failed:
          return;
      }
    }
  }

  private emit(data: Buffer): void {
    const txnr = this.txnr;
    const command = this.command();
    const name = command === Command.Other ? this.cmd.toString('latin1', 0, this.cmdLen) : undefined;
    const truncated = this.truncated;
    this.state = State.Txnr;
    this.txnr = this.digits = this.datalen = 0;
    this.truncated = false;
    this.out.frame(txnr, command, data, truncated, name);
  }

  /** The command, recognised without making a string of it. */
  private command(): Command {
    const c = this.cmd;
    switch (this.cmdLen) {
      case 6:
        return c[0] === 115 && c[1] === 121 && c[2] === 115 && c[3] === 108 && c[4] === 111 && c[5] === 103 ? Command.Syslog : Command.Other; // syslog
      case 4:
        return c[0] === 111 && c[1] === 112 && c[2] === 101 && c[3] === 110 ? Command.Open : Command.Other; // open
      case 5:
        return c[0] === 99 && c[1] === 108 && c[2] === 111 && c[3] === 115 && c[4] === 101 ? Command.Close : Command.Other; // close
      default:
        return Command.Other;
    }
  }

  private fail(reason: string): void {
    this.stop();
    this.out.error(reason);
  }
}
