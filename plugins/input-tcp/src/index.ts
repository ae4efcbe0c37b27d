import { definePlugin, fieldRef, opt, type Event, type InputSink } from '@pipeline/core';
import { Framer, listenOptions, PeerNames, serverInput, streamServerOf, tlsTuningOptions, type ConnectionHandler, type ListenSettings, type Peer } from '@pipeline/net';

/** Where the connection's metadata goes (Logstash's tcp input: ecs_compatibility disabled, or v1/v8). */
const FIELDS = {
  disabled: { host: 'host', ip: '[@metadata][ip_address]', port: 'port', sslsubject: 'sslsubject' },
  ecs: {
    host: '[@metadata][input][tcp][source][name]',
    ip: '[@metadata][input][tcp][source][ip]',
    port: '[@metadata][input][tcp][source][port]',
    sslsubject: '[@metadata][input][tcp][tls][client][subject]',
  },
};

export default definePlugin({
  kind: 'input',
  name: 'tcp',
  description: 'Receives lines (LF/CRLF or RFC 6587 octet-counted) over TCP or TLS.',
  defaultCodec: 'line',
  codecInput: 'stream',
  options: {
    port: opt.port({ min: 0, required: true, description: 'Port to listen on (0 = any free port).' }),
    ...listenOptions,
    ...tlsTuningOptions,
    ecs_compatibility: opt.string({
      default: 'disabled',
      values: ['disabled', 'v1', 'v8'],
      description: 'disabled: host, port, sslsubject and [@metadata][ip_address]; v1, v8: the same under [@metadata][input][tcp] (source name/ip/port, tls client subject), nothing at the top level.',
    }),
    proxy_protocol: opt.bool({
      default: false,
      description: 'PROXY protocol v1 headers; not supported: true is refused at -t.',
      validate: (v: boolean) => (v ? 'the PROXY protocol is not supported; remove proxy_protocol or set it to false' : undefined),
    }),
    ssl_verification_mode: opt.string({
      values: ['full', 'none'],
      deprecated: "has no effect: it applies to mode => client (Logstash's tcp input verifying the server it connects to), and Pipeline's tcp input only listens",
      description: "Logstash: server certificate checks in client mode; accepted and ignored with a warning (server mode only here).",
    }),
    dns_reverse_lookup_enabled: opt.bool({
      default: true,
      description: "host gets the sender's name (reverse lookup through /etc/hosts and DNS, confirmed forward, cached) instead of its address; the address is in [@metadata][ip_address].",
    }),
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
    const names_ = FIELDS[o.ecs_compatibility === 'disabled' ? 'disabled' : 'ecs'];
    const hostF = fieldRef(names_.host);
    const ipF = fieldRef(names_.ip);
    const portF = fieldRef(names_.port);
    const subjectF = fieldRef(names_.sslsubject);
    // one cache for the input's listener (a reload starts a new one)
    const names = o.dns_reverse_lookup_enabled ? new PeerNames({ clock: ctx.clock, metrics: m }) : undefined;
    const open = (peer: Peer, sink: InputSink): ConnectionHandler => {
      const decoder = ctx.codec.create(); // one per connection: its framing state is the connection's
      let truncated = false;
      // as Logstash: each only when the decoded event has no such field (a JSON line may carry its own host)
      const emit = (e: Event) => {
        const f = e.fields;
        if (hostF.get(f) === undefined) hostF.set(f, peer.host);
        if (ipF.get(f) === undefined) ipF.set(f, peer.ip);
        if (portF.get(f) === undefined) portF.set(f, peer.port);
        if (peer.sslsubject !== undefined && subjectF.get(f) === undefined) subjectF.set(f, peer.sslsubject);
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
    return serverInput(() => [streamServerOf(o as ListenSettings, ctx, open, names)]);
  },
});
