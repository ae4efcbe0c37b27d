import { definePlugin, opt, type Event, type InputSink } from '@pipeline/core';
import { listenOptions, tlsFilesOf } from '@pipeline/net';
import { RelpServer, type RelpPeer } from './server.js';

export { FrameParser, Command, type FrameSink } from './frame.js';
export { RelpSession, offersProblem, MAX_OWED, MAX_WRITE_BUFFER } from './session.js';
export { RelpServer, type RelpPeer, type RelpServerOptions } from './server.js';

/** The tcp input's listening options, minus `mode` (RELP has only a server side here). */
const { mode: _mode, ...listen } = listenOptions;

const maxLineBytes = opt.number({
  default: 65536,
  description: "Longest message kept (a frame's data); the rest of a longer one is discarded, the event tagged _line_truncated and counted (oversize_lines).",
  validate: (n: number) => (Number.isInteger(n) && n >= 16 ? undefined : 'must be an integer >= 16'),
});

/**
 * Frame data without one trailing LF (or CRLF) a sender's template may add; bytes, which the codec
 * decodes by its charset.
 */
function frameBytes(data: Buffer, truncated: boolean): Buffer {
  let end = data.length;
  if (!truncated && end > 0 && data[end - 1] === 10) {
    end--;
    if (end > 0 && data[end - 1] === 13) end--;
  }
  return end === data.length ? data : data.subarray(0, end);
}

export default definePlugin({
  kind: 'input',
  name: 'relp',
  description: "Receives syslog over RELP (rsyslog's omrelp), acknowledging each message once the queue holds it.",
  defaultCodec: 'plain',
  codecInput: 'message',
  options: {
    port: opt.port({ min: 0, required: true, description: 'Port to listen on (0 = any free port).' }),
    ...listen,
    ssl_certificate_authorities: opt.strings({
      default: [],
      aliases: ['ssl_cacert'],
      description: "CA certificates (PEM files) that client certificates must chain to (Logstash relp's ssl_cacert is an alias).",
    }),
    max_line_bytes: maxLineBytes,
  },
  check(o) {
    if (o.ssl_enable && (!o.ssl_cert || !o.ssl_key)) throw new Error('relp: ssl_enable => true needs ssl_cert and ssl_key');
  },
  create(o, ctx) {
    const events = ctx.metrics.counter('events');
    const clock = ctx.clock;
    // Each frame's data is decoded whole, as Logstash decodes each frame on its own; frames are
    // delivered synchronously, so one decoder and one emit serve every session, reading the
    // frame's peer and sink from these.
    const decoder = ctx.codec.create();
    let from: RelpPeer;
    let target: InputSink;
    let cut = false;
    const emit = (e: Event) => {
      e.fields.host = from.address;
      if (from.sslsubject !== undefined) e.fields.sslsubject = from.sslsubject;
      if (cut) e.tag('_line_truncated');
      events.inc();
      target.push(e);
    };
    const deliver = (peer: RelpPeer, sink: InputSink, data: Buffer, truncated: boolean) => {
      from = peer;
      target = sink;
      cut = truncated;
      decoder.decodeMessage(frameBytes(data, truncated), emit);
    };

    let server: RelpServer | undefined;
    let stopped: () => void;
    const done = new Promise<void>((r) => (stopped = r));
    return {
      async run(sink: InputSink) {
        server = new RelpServer({
          host: o.host,
          port: o.port,
          tls: tlsFilesOf({ ...o, mode: 'server' }, ctx),
          maxConnections: o.max_connections,
          idleTimeoutMs: o.idle_timeout * 1000,
          keepAlive: o.tcp_keep_alive,
          maxDataBytes: o.max_line_bytes,
          logger: ctx.logger,
          metrics: ctx.metrics,
          clock,
          deliver,
        });
        try {
          await server.listen(sink);
        } catch (e) {
          await server.close();
          throw e;
        }
        await done;
        await server.close();
      },
      stop() {
        stopped();
      },
      reload() {
        server?.reload();
      },
      /** The server (tests read its port and sessions). */
      get server() {
        return server;
      },
    };
  },
});
