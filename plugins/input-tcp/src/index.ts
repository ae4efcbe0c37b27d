import { definePlugin, opt, type Event, type InputSink } from '@pipeline/core';
import { Framer, listenOptions, PeerNames, serverInput, streamServerOf, type ConnectionHandler, type ListenSettings, type Peer } from '@pipeline/net';

export default definePlugin({
  kind: 'input',
  name: 'tcp',
  description: 'Receives lines (LF/CRLF or RFC 6587 octet-counted) over TCP or TLS.',
  defaultCodec: 'line',
  codecInput: 'stream',
  options: {
    port: opt.port({ min: 0, required: true, description: 'Port to listen on (0 = any free port).' }),
    ...listenOptions,
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
    // one cache for the input's listener (a reload starts a new one)
    const names = o.dns_reverse_lookup_enabled ? new PeerNames({ clock: ctx.clock, metrics: m }) : undefined;
    const open = (peer: Peer, sink: InputSink): ConnectionHandler => {
      const decoder = ctx.codec.create(); // one per connection: its framing state is the connection's
      let truncated = false;
      const emit = (e: Event) => {
        const f = e.fields;
        f.host = peer.host;
        f.port = peer.port;
        e.metadata.ip_address = peer.ip;
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
    return serverInput(() => [streamServerOf(o as ListenSettings, ctx, open, names)]);
  },
});
