import type net from 'node:net';
import type { Counter, InputSink } from '@pipeline/core';
import type { LimitedLog } from '@pipeline/net';
import { Command, FrameParser } from './frame.js';

/**
 * One RELP session on one connection (server side), following the RELP specification and what
 * librelp's server does:
 *
 *  - The first command must be `open` with a `relp_version` offer and `syslog` among its
 *    `commands`; the answer is `200 OK` with our offers (version 0, as librelp speaks it), or `500`
 *    and the end of the session.
 *  - Transaction numbers must come in sequence (1, 2, ... 999,999,999, 1), as librelp's server checks.
 *  - Each `syslog` frame becomes events pushed to the sink; its `rsp 200 OK` is written only once the
 *    queue holds them (`sink.whenStored()`: committed to disk with the persisted queue). Until then the
 *    sender keeps the message and sends it again on a new session if this one breaks, which is what
 *    makes RELP lossless across a crash. Responses go out in command order, as the specification
 *    requires; every response owed when a commit lands goes out in one write.
 *  - `close` is answered (`rsp 0`) after the responses before it, then the connection ends.
 *  - Framing errors and unexpected commands end the session with a `serverclose` hint (the spec:
 *    close, don't guess); responses already owed for accepted frames are sent first.
 *
 * Bounded: frame data is capped (`maxDataBytes`; only 4 KiB before `open`), reading pauses while
 * the queue is full, while more than MAX_OWED responses are waiting for the queue, and while the
 * socket holds more than MAX_WRITE_BUFFER bytes the peer has not read (a client that never reads
 * its acknowledgements cannot make us buffer them without limit).
 */

/** Responses waiting for the queue before reading pauses (rsyslog's default window is 128). */
export const MAX_OWED = 1024;
/** Unread response bytes in the socket before reading pauses. */
export const MAX_WRITE_BUFFER = 1 << 20;
/** Data kept of frames before the session is open (offers are a few dozen bytes). */
const MAX_OPEN_DATA = 4096;
const MAX_TXNR = 999_999_999;
/** How long an ended connection may stay half-open before it is destroyed. */
const END_GRACE_MS = 2000;

const SERVERCLOSE = '0 serverclose 0\n';
const OK_TAIL = ' rsp 6 200 OK\n';

export const RELP_SOFTWARE = 'pipeline,0.1.0,https://github.com/pipeline/pipeline';

/** Why reading is paused (several may hold at once). */
const enum Pause {
  QueueFull = 1,
  Owed = 2,
  WriteBuffer = 4,
  Ending = 8,
}

export interface SessionMetrics {
  frames: Counter;
  acks: Counter;
  framingErrors: Counter;
  oversize: Counter;
  refused: Counter;
  pauses: Counter;
}

export interface SessionEnv {
  sink: InputSink;
  maxDataBytes: number;
  metrics: SessionMetrics;
  warnings: LimitedLog;
  /** Turns one syslog frame's data into events and pushes them. */
  deliver(data: Buffer, truncated: boolean): void;
  /** The session is over (the socket is ended or destroyed). */
  done(session: RelpSession): void;
}

export class RelpSession {
  private readonly parser: FrameParser;
  private open = false;
  private expected = 1;
  /** Responses owed, in command order: a txnr for "200 OK", or a whole response frame. */
  private owed: (number | string)[] = [];
  private flushing = false;
  /** After the owed responses: end the connection, with a serverclose hint or not. */
  private ending: 'no' | 'end' | 'serverclose' = 'no';
  private paused = 0;
  private finished = false;
  private destroyTimer?: NodeJS.Timeout;
  lastActivity = 0;

  constructor(
    readonly socket: net.Socket,
    readonly peer: string,
    private readonly env: SessionEnv,
  ) {
    this.parser = new FrameParser(MAX_OPEN_DATA, {
      frame: (txnr, command, data, truncated, name) => this.frame(txnr, command, data, truncated, name),
      error: (reason) => this.fail(`framing error: ${reason}`),
    });
    socket.on('drain', () => this.resume(Pause.WriteBuffer));
  }

  /** Bytes from the peer. */
  data(chunk: Buffer): void {
    if (this.parser.stopped) return;
    this.parser.push(chunk);
    if (this.owed.length > 0) this.flush();
    if (this.owed.length >= MAX_OWED) this.pause(Pause.Owed);
    const sink = this.env.sink;
    if (!sink.writable && (this.paused & Pause.QueueFull) === 0) {
      this.pause(Pause.QueueFull);
      this.env.metrics.pauses.inc();
      void sink.whenWritable().then(() => this.resume(Pause.QueueFull));
    }
  }

  /** Waiting on the queue or the peer: an idle sweep must not close it. */
  get busy(): boolean {
    return this.owed.length > 0 || this.paused !== 0;
  }

  /**
   * Ends the session from our side (shutdown, idle): sends what is owed once stored, then the
   * serverclose hint. A frame cut short is dropped unanswered; the sender sends it again.
   */
  shutdown(): void {
    if (this.finished) return;
    this.parser.stop();
    if (this.ending === 'no') this.ending = 'serverclose';
    this.pause(Pause.Ending);
    // bounded even if the queue never stores what is owed (the sender then sends it again)
    this.destroyLater();
    if (this.owed.length > 0) this.flush();
    else if (!this.flushing) this.finish();
  }

  /** The connection is gone (either side). */
  closed(): void {
    if (this.finished) return;
    this.finished = true;
    this.parser.stop();
    this.owed = [];
    this.env.done(this);
  }

  private frame(txnr: number, command: Command, data: Buffer, truncated: boolean, name: string | undefined): void {
    if (txnr === 0) return; // a hint from the client: none is defined, nothing to answer
    if (txnr !== this.expected) return this.fail(`transaction number ${txnr} out of sequence (expected ${this.expected})`);
    this.expected = txnr === MAX_TXNR ? 1 : txnr + 1;
    const m = this.env.metrics;
    if (command === Command.Syslog && this.open) {
      m.frames.inc();
      if (truncated) m.oversize.inc();
      this.env.deliver(data, truncated);
      this.owed.push(txnr);
      return;
    }
    if (command === Command.Open && !this.open) {
      const problem = offersProblem(data.toString('latin1'));
      if (problem !== undefined) {
        m.refused.inc();
        this.env.warnings.warn({ peer: this.peer, reason: problem }, 'RELP session refused');
        return this.refuse(txnr, problem);
      }
      this.open = true;
      this.parser.maxDataBytes = this.env.maxDataBytes;
      this.owed.push(response(txnr, `200 OK\nrelp_version=0\nrelp_software=${RELP_SOFTWARE}\ncommands=syslog`));
      return;
    }
    if (command === Command.Close && this.open) {
      this.owed.push(`${txnr} rsp 0\n`);
      this.parser.stop();
      this.ending = 'end';
      this.pause(Pause.Ending);
      return;
    }
    const what = command === Command.Open ? 'open on an open session' : this.open ? `unknown command ${JSON.stringify(name ?? '')}` : 'a session must start with open';
    m.framingErrors.inc();
    this.env.warnings.warn({ peer: this.peer, reason: what }, 'RELP protocol error: closing the session');
    this.refuse(txnr, `protocol error: ${what}`);
  }

  /** Answers with a 500 and ends the session (after what is owed). */
  private refuse(txnr: number, why: string): void {
    this.owed.push(response(txnr, `500 ${why.replace(/\n/g, ' ').slice(0, 80)}`));
    this.parser.stop();
    this.ending = 'serverclose';
    this.pause(Pause.Ending);
  }

  private fail(reason: string): void {
    this.env.metrics.framingErrors.inc();
    this.env.warnings.warn({ peer: this.peer, reason }, 'RELP framing error: closing the session');
    this.parser.stop();
    this.ending = 'serverclose';
    this.pause(Pause.Ending);
    if (this.owed.length === 0 && !this.flushing) this.finish();
  }

  /**
   * Writes the responses owed so far once the queue holds their events. One flush at a time, so
   * responses leave in command order; frames that arrive meanwhile wait for the next one.
   */
  private flush(): void {
    if (this.flushing || this.finished) return;
    this.flushing = true;
    const n = this.owed.length;
    const stored = this.env.sink.whenStored?.();
    if (stored === undefined) this.write(n);
    else
      void stored.then(
        () => this.write(n),
        () => {
          // never stored: say nothing, the sender keeps its messages and sends them again
          this.socket.destroy();
          this.closed();
        },
      );
  }

  private write(n: number): void {
    this.flushing = false;
    if (this.finished) return;
    const owed = this.owed;
    let text = '';
    let acked = 0;
    for (let i = 0; i < n; i++) {
      const r = owed[i]!;
      if (typeof r === 'number') {
        text += r + OK_TAIL;
        acked++;
      } else text += r;
    }
    this.owed = n === owed.length ? [] : owed.slice(n);
    this.env.metrics.acks.inc(acked);
    if (this.owed.length < MAX_OWED) this.resume(Pause.Owed);
    if (text.length > 0 && !this.socket.destroyed) {
      this.socket.write(text);
      if (this.socket.writableLength > MAX_WRITE_BUFFER) this.pause(Pause.WriteBuffer);
    }
    if (this.owed.length > 0) this.flush();
    else if (this.ending !== 'no') this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    const s = this.socket;
    if (!s.destroyed) {
      if (this.ending === 'serverclose') s.end(SERVERCLOSE);
      else s.end();
      s.resume(); // read on (and discard) so the peer's FIN is seen and the socket closes
      this.destroyLater();
    }
    this.closed();
  }

  /** A peer that neither reads nor closes must not keep the socket (real time: a safety net). */
  private destroyLater(): void {
    if (this.destroyTimer !== undefined) return;
    const s = this.socket;
    const t = setTimeout(() => s.destroy(), END_GRACE_MS);
    t.unref();
    this.destroyTimer = t;
    s.once('close', () => clearTimeout(t));
  }

  private pause(why: Pause): void {
    if (this.paused === 0) this.socket.pause();
    this.paused |= why;
  }

  private resume(why: Pause): void {
    if ((this.paused & why) === 0) return;
    this.paused &= ~why;
    if (this.paused === 0 && !this.socket.destroyed) this.socket.resume();
  }
}

/** A response frame (`TXNR rsp DATALEN DATA LF`). */
function response(txnr: number, data: string): string {
  return `${txnr} rsp ${Buffer.byteLength(data)} ${data}\n`;
}

/**
 * What is wrong with a client's offers (LF-separated `name=value[,value...]`), or undefined.
 * We need a numeric relp_version and the syslog command; everything else is ignored, as librelp does.
 */
export function offersProblem(text: string): string | undefined {
  let version: string | undefined;
  let commands: string[] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 1);
    if (name === 'relp_version') version = value;
    else if (name === 'commands') commands = value.split(',');
  }
  if (version === undefined) return 'no relp_version offered';
  if (!/^\d{1,9}$/.test(version)) return `invalid relp_version ${JSON.stringify(version.slice(0, 20))}`;
  if (!commands.includes('syslog')) return 'required command syslog not offered';
  return undefined;
}
