import type net from 'node:net';
import type { InputSink, TimerHandle } from '@pipeline/core';
import { StreamListener, type ListenerOptions, type Peer } from './listener.js';
import type { PeerNames } from './peer-names.js';

export type { Peer } from './listener.js';

/**
 * A line-stream server (the tcp and syslog inputs'): the shared listener (TLS, connection cap, metrics) plus what a line
 * stream needs — an idle timeout on the plugin's clock and back-pressure (a full queue pauses the
 * socket until it has room). What the bytes mean is up to the per-connection handler the input supplies.
 */
export interface ConnectionHandler {
  data(chunk: Buffer): void;
  /** The connection ended (either side): emit what is buffered. */
  end(): void;
}

export interface StreamServerOptions extends ListenerOptions {
  open(peer: Peer, sink: InputSink): ConnectionHandler;
  /**
   * Names peers (reverse lookup): a connection is not read until its peer is named or the lookup
   * timed out (its bytes wait in the kernel, the sender is held back), so every event of the
   * connection carries the same `host`.
   */
  names?: PeerNames;
}

interface Conn {
  socket: net.Socket;
  handler: ConnectionHandler;
  lastActivity: number;
  paused: boolean;
  ended: boolean;
}

export class StreamServer {
  private readonly listener: StreamListener;
  private readonly conns = new Set<Conn>();
  /** Accepted sockets whose peer is being named. */
  private readonly naming = new Set<net.Socket>();
  private closing = false;
  private sweeper?: TimerHandle;
  private sink?: InputSink;
  private readonly pauses;

  constructor(private readonly o: StreamServerOptions) {
    this.listener = new StreamListener(o, (socket, peer, secure) => this.accept(socket, peer, secure));
    this.pauses = o.metrics.counter('backpressure_pauses');
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.listener.port;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  async listen(sink: InputSink): Promise<void> {
    this.sink = sink;
    await this.listener.listen();
    const o = this.o;
    if (o.idleTimeoutMs > 0) this.sweeper = o.clock.setInterval(() => this.closeIdle(), Math.max(1, Math.floor(o.idleTimeoutMs / 4)));
  }

  private accept(socket: net.Socket, peer: Peer, secure: boolean): void {
    const names = this.o.names;
    if (!names) return this.serve(socket, peer, secure);
    const name = names.name(peer.ip);
    if (typeof name === 'string') return this.serve(socket, name === peer.host ? peer : { ...peer, host: name }, secure);
    // not read meanwhile: nothing is attached to the socket but the listener's error handler
    this.naming.add(socket);
    void name.then((host) => {
      this.naming.delete(socket);
      if (this.closing || socket.destroyed) {
        socket.destroy();
        return;
      }
      this.serve(socket, host === peer.host ? peer : { ...peer, host }, secure);
    });
  }

  private serve(socket: net.Socket, peer: Peer, secure: boolean): void {
    const o = this.o;
    const sink = this.sink!;
    const m = this.listener.m;
    const conn: Conn = { socket, handler: o.open(peer, sink), lastActivity: o.clock.now(), paused: false, ended: false };
    this.conns.add(conn);
    m.total.inc();
    m.open.set(this.conns.size);
    let first = !secure;
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (this.listener.refusedAsTls(socket, peer, chunk, 'TLS handshake on a plain TCP port: closing (enable ssl_enable, or point the client at the TLS port)')) {
          conn.ended = true;
          return;
        }
      }
      conn.lastActivity = o.clock.now();
      m.bytes.inc(chunk.length);
      conn.handler.data(chunk);
      if (!sink.writable && !conn.paused) this.pause(conn, sink);
    });
    socket.on('close', () => {
      this.finish(conn);
      this.conns.delete(conn);
      m.open.set(this.conns.size);
    });
  }

  private pause(conn: Conn, sink: InputSink): void {
    conn.paused = true;
    conn.socket.pause();
    this.pauses.inc();
    void sink.whenWritable().then(() => {
      conn.paused = false;
      if (!conn.socket.destroyed) conn.socket.resume();
    });
  }

  private finish(conn: Conn): void {
    if (conn.ended) return;
    conn.ended = true;
    conn.handler.end();
  }

  private closeIdle(): void {
    const limit = this.o.clock.now() - this.o.idleTimeoutMs;
    for (const c of this.conns) {
      if (c.lastActivity <= limit && !c.paused) {
        this.listener.m.idleClosed.inc();
        this.o.logger.debug({ peer: c.socket.remoteAddress }, 'closing idle connection');
        this.finish(c);
        c.socket.destroy();
      }
    }
  }

  /** Re-reads the certificate files; the old ones stay in use when the new ones are unusable. */
  reload(): void {
    this.listener.reload();
  }

  /** Stops accepting, closes every connection after handing over its buffered frame. */
  async close(): Promise<void> {
    this.closing = true;
    this.sweeper?.cancel();
    for (const s of this.naming) s.destroy();
    this.naming.clear();
    const closed = this.listener.close();
    for (const c of this.conns) {
      this.finish(c);
      c.socket.destroy();
    }
    await closed;
  }
}

/** Runs stream servers until stop(): the input instance of a plugin that only listens (the tcp input). */
export function serverInput(servers: () => StreamServer[], extra?: { start?(sink: InputSink): Promise<void>; stop?(): Promise<void> }) {
  let stopped: () => void;
  const done = new Promise<void>((r) => (stopped = r));
  let list: StreamServer[] = [];
  return {
    async run(sink: InputSink) {
      list = servers();
      try {
        for (const s of list) await s.listen(sink);
        await extra?.start?.(sink);
      } catch (e) {
        await Promise.all(list.map((s) => s.close()));
        await extra?.stop?.();
        throw e;
      }
      await done;
      await Promise.all(list.map((s) => s.close()));
      await extra?.stop?.();
    },
    stop() {
      stopped();
    },
    reload() {
      for (const s of list) s.reload();
    },
    /** The servers (tests read their bound ports). */
    get servers() {
      return list;
    },
  };
}
