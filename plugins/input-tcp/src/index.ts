import { definePlugin, opt, type Event, type InputSink, type PluginContext } from '@pipeline/core';
import { Framer } from './framing.js';
import { clientAuthOf, listenOptions } from './options.js';
import { StreamServer, type ConnectionHandler, type Peer } from './server.js';
import type { TlsFiles } from './tls-files.js';

export { Framer, type FrameSink } from './framing.js';
export { listenOptions, clientAuthOf, type ClientAuth } from './options.js';
export { StreamServer, type ConnectionHandler, type StreamServerOptions } from './server.js';
export { StreamListener, type ListenerOptions, type Peer } from './listener.js';
export { loadTls, warnExpiring, type TlsFiles } from './tls-files.js';
export { LimitedLog } from './log-limit.js';

export interface ListenSettings {
  host: string;
  port: number;
  mode: string;
  ssl_enable: boolean;
  ssl_cert?: string;
  ssl_key?: string;
  ssl_key_passphrase?: string;
  ssl_extra_chain_certs: string[];
  ssl_certificate_authorities: string[];
  ssl_verify: unknown;
  max_line_bytes: number;
  max_connections: number;
  idle_timeout: number;
  tcp_keep_alive: boolean;
}

/** TLS files from the options, or undefined for plain TCP; throws on an incomplete TLS setup. */
export function tlsFilesOf(o: ListenSettings, ctx: PluginContext): TlsFiles | undefined {
  if (!o.ssl_enable) return undefined;
  if (!o.ssl_cert || !o.ssl_key) throw new Error('ssl_enable => true needs ssl_cert and ssl_key');
  const cas = o.ssl_certificate_authorities.map((p) => ctx.resolvePath(p));
  const clientAuth = clientAuthOf(o.ssl_verify, cas.length > 0)!;
  if (clientAuth !== 'none' && cas.length === 0) throw new Error(`client certificates (${clientAuth}) need ssl_certificate_authorities`);
  return {
    cert: ctx.resolvePath(o.ssl_cert),
    key: ctx.resolvePath(o.ssl_key),
    passphrase: o.ssl_key_passphrase,
    extraChain: o.ssl_extra_chain_certs.map((p) => ctx.resolvePath(p)),
    cas,
    clientAuth,
  };
}

/** A stream server from the listen options; `open` decides what a connection's bytes mean. */
export function streamServerOf(o: ListenSettings, ctx: PluginContext, open: (peer: Peer, sink: InputSink) => ConnectionHandler): StreamServer {
  return new StreamServer({
    host: o.host,
    port: o.port,
    tls: tlsFilesOf(o, ctx),
    maxConnections: o.max_connections,
    idleTimeoutMs: o.idle_timeout * 1000,
    keepAlive: o.tcp_keep_alive,
    logger: ctx.logger,
    metrics: ctx.metrics,
    clock: ctx.clock,
    open,
  });
}

/** Runs a stream server until stop(); the shape the tcp and syslog inputs share. */
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

export default definePlugin({
  kind: 'input',
  name: 'tcp',
  description: 'Receives lines (LF/CRLF or RFC 6587 octet-counted) over TCP or TLS.',
  defaultCodec: 'line',
  codecInput: 'stream',
  options: {
    port: opt.port({ min: 0, required: true, description: 'Port to listen on (0 = any free port).' }),
    ...listenOptions,
  },
  check(o) {
    if (o.ssl_enable && (!o.ssl_cert || !o.ssl_key)) throw new Error('tcp: ssl_enable => true needs ssl_cert and ssl_key');
  },
  create(o, ctx) {
    const m = ctx.metrics;
    const events = m.counter('events');
    const oversize = m.counter('oversize_lines');
    const framingErrors = m.counter('framing_errors');
    // A codec whose framing is LF lines (line, json_lines with their default delimiter) gets each
    // line from the Framer, which adds octet counting, max_line_bytes and CRLF; any other codec
    // (plain, json, line with another delimiter) reads the connection's bytes and frames them itself.
    const framed = ctx.codec.create().decodeLine !== undefined;
    const open = (peer: Peer, sink: InputSink): ConnectionHandler => {
      const decoder = ctx.codec.create(); // one per connection: its framing state is the connection's
      let truncated = false;
      const emit = (e: Event) => {
        const f = e.fields;
        f.host = peer.host;
        f.port = peer.port;
        if (peer.sslsubject !== undefined) f.sslsubject = peer.sslsubject;
        if (truncated) e.tag('_line_truncated');
        events.inc();
        sink.push(e);
      };
      if (!framed) return { data: (chunk) => decoder.decode(chunk, emit), end: () => decoder.flush(emit) };
      const framer = new Framer(o.max_line_bytes, {
        frame(message, cut) {
          truncated = cut;
          decoder.decodeLine!(message, emit);
        },
        oversize: () => oversize.inc(),
        framingError: () => framingErrors.inc(),
      });
      return {
        data: (chunk) => framer.push(chunk),
        end: () => {
          framer.end();
          decoder.flush(emit); // what a codec that joins lines (multiline) still holds
        },
      };
    };
    return serverInput(() => [streamServerOf(o as ListenSettings, ctx, open)]);
  },
});
