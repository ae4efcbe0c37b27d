import { definePlugin, fieldRef, opt, type Event, type InputSink } from '@pipeline/core';
import { datagramBytes, UdpServer } from '@pipeline/net';

export const udpOptions = {
  host: opt.string({ default: '0.0.0.0', description: 'Address to listen on.' }),
  buffer_size: opt.number({ default: 65536, description: 'Longest datagram kept (bytes); longer ones are cut and counted.', validate: (n) => (n >= 1 && n <= 65536 ? undefined : 'must be 1..65536') }),
  receive_buffer_bytes: opt.number({ description: 'Socket receive buffer (SO_RCVBUF), e.g. 4194304 for bursts; capped by net.core.rmem_max.' }),
  workers: opt.number({ deprecated: 'has no effect: datagrams are read and decoded on the event loop, one socket, in order', description: "Logstash: threads decoding datagrams (default 2); accepted and ignored with a warning." }),
  queue_size: opt.number({ deprecated: 'has no effect: datagrams go straight to the pipeline queue, which bounds memory (a full queue drops them, counted as drops)', description: "Logstash: datagrams buffered before the workers (default 2000); accepted and ignored with a warning." }),
  ecs_compatibility: opt.string({ default: 'disabled', values: ['disabled', 'v1', 'v8'], description: "Where the sender's address goes when source_ip_fieldname is not set: disabled: host; v1, v8: [host][ip]." }),
};

export default definePlugin({
  kind: 'input',
  name: 'udp',
  description: 'Receives one event per UDP datagram.',
  defaultCodec: 'plain',
  codecInput: 'message',
  options: {
    port: opt.port({ min: 0, required: true, description: 'Port to listen on (0 = any free port).' }),
    ...udpOptions,
    source_ip_fieldname: opt.field({ description: "Field that receives the sender's IP address; default host, or [host][ip] with ecs_compatibility v1/v8." }),
  },
  create(o, ctx) {
    const events = ctx.metrics.counter('events');
    const clock = ctx.clock;
    // a field reference, as Logstash's event.set takes it
    const ipField = fieldRef(o.source_ip_fieldname ?? (o.ecs_compatibility === 'disabled' ? 'host' : '[host][ip]'));
    // one decoder for the socket: each datagram is decoded whole, nothing carried to the next
    const decoder = ctx.codec.create();
    let from = '';
    let target: InputSink | undefined;
    // as Logstash: the sender's address unless the decoded event has that field already; no port
    const emitDecoded = (e: Event) => {
      if (ipField.get(e.fields) === undefined) ipField.set(e.fields, from);
      events.inc();
      target!.push(e);
    };
    const server = new UdpServer({
      host: o.host,
      port: o.port,
      bufferSize: o.buffer_size,
      receiveBufferBytes: o.receive_buffer_bytes,
      logger: ctx.logger,
      metrics: ctx.metrics,
      clock,
      onMessage(msg, host, _port, sink: InputSink) {
        target = sink;
        from = host;
        // without the sender's trailing LF (nc -u adds one): plain would keep it in the message;
        // the bytes go to the codec, which decodes them by its charset
        decoder.decodeMessage(datagramBytes(msg), emitDecoded);
      },
    });
    let stopped: () => void;
    const done = new Promise<void>((r) => (stopped = r));
    return {
      async run(sink) {
        await server.listen(sink);
        ctx.metrics.gauge('listen_port').set(server.port);
        await done;
        await server.close();
      },
      stop() {
        stopped();
      },
      get server() {
        return server;
      },
    };
  },
});
