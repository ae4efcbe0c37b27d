import net from 'node:net';
import tls from 'node:tls';
import { Command, FrameParser } from '../src/frame.js';

export interface Response {
  txnr: number;
  command: string;
  data: string;
}

/**
 * A RELP client for the tests, speaking the protocol by hand so that tests can also send what no
 * real client would. Frames coming back are split by the input's own parser (any command).
 */
export class RelpClient {
  readonly responses: Response[] = [];
  private txnr = 0;
  private readonly ended: Promise<void>;
  private framingError?: string;

  private constructor(readonly socket: net.Socket) {
    const parser = new FrameParser(1 << 20, {
      frame: (txnr, command, data, _t, name) =>
        this.responses.push({ txnr, command: command === Command.Other ? name! : String(command), data: data.toString('utf8') }),
      error: (reason) => (this.framingError = reason),
    });
    socket.on('data', (c: Buffer) => parser.push(c));
    socket.on('error', () => {});
    this.ended = new Promise((r) => socket.once('close', () => r()));
  }

  static connect(port: number, o: { tls?: tls.ConnectionOptions } = {}): Promise<RelpClient> {
    return new Promise((resolve, reject) => {
      const s = o.tls
        ? tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...o.tls }, () => resolve(new RelpClient(s)))
        : net.connect({ host: '127.0.0.1', port }, () => resolve(new RelpClient(s)));
      s.once('error', reject);
    });
  }

  /** Writes raw bytes. */
  raw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a command with the next transaction number; returns that number. */
  send(command: string, data: string | Buffer = ''): number {
    const txnr = ++this.txnr;
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    this.socket.write(body.length ? Buffer.concat([Buffer.from(`${txnr} ${command} ${body.length} `), body, Buffer.from('\n')]) : `${txnr} ${command} 0\n`);
    return txnr;
  }

  /** `open` with the offers rsyslog's omrelp sends. */
  open(offers = 'relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog'): number {
    return this.send('open', offers);
  }

  async response(txnr: number, ms = 10_000): Promise<Response> {
    await this.until(() => this.responses.some((r) => r.txnr === txnr && r.command === 'rsp'), `the response to ${txnr}`, ms);
    return this.responses.find((r) => r.txnr === txnr && r.command === 'rsp')!;
  }

  async until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
    const t0 = Date.now();
    while (!pred()) {
      if (this.framingError) throw new Error(`the server sent a malformed frame: ${this.framingError}`);
      if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(this.responses.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolves when the server has closed the connection. */
  closed(): Promise<void> {
    return this.ended;
  }

  get isClosed(): boolean {
    return this.socket.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
