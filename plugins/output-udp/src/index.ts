import { compileTemplate, ConfigError, definePlugin, opt } from '@pipeline/core';
import { UdpSender } from '@pipeline/net';

/** A port as the udp output takes it: a whole number from 1 to 65535, or undefined. */
export function portOf(text: string): number | undefined {
  if (!/^\s*\d{1,5}\s*$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * One datagram per event, encoded by the codec (json by default, as Logstash). UDP has no
 * acknowledgement: a batch is acknowledged once each of its datagrams has been handed to the
 * kernel (or dropped after `retry_count` failed sends); what the network or the receiver loses
 * after that is not known.
 */
export default definePlugin({
  kind: 'output',
  name: 'udp',
  description: 'Sends each event as one UDP datagram, encoded by a codec.',
  defaultCodec: 'json',
  options: {
    host: opt.string({ required: true, description: 'The address to send to (a name is resolved once, and again after a failed send).' }),
    port: opt.string({
      required: true,
      description: 'The port to send to; sprintf (`%{[target][port]}`): an event whose port is not a number from 1 to 65535 is dropped (logged, counted).',
    }),
    retry_count: opt.integer({ default: 0, min: 0, description: 'Times a failed send is tried again before the datagram is dropped.' }),
    retry_backoff_ms: opt.integer({ default: 10, min: 0, description: 'Milliseconds between tries of a failed send.' }),
  },
  check(o) {
    const t = compileTemplate(o.port);
    if (!t.dynamic && portOf(o.port) === undefined) throw new ConfigError(`udp: port must be a number from 1 to 65535 or a %{field} reference, got '${o.port}'`);
  },
  create(o, ctx) {
    const encoder = ctx.codec.create();
    const sender = new UdpSender({ host: o.host, retryCount: o.retry_count, retryBackoffMs: o.retry_backoff_ms, clock: ctx.clock, logger: ctx.logger, metrics: ctx.metrics });
    const portTemplate = compileTemplate(o.port);
    const fixedPort = portTemplate.dynamic ? undefined : portOf(o.port);
    const badPort = ctx.metrics.counter('bad_port_events');
    let lastBadPortLog = -Infinity;
    return {
      receive(events) {
        const payloads: string[] = [];
        if (fixedPort !== undefined) {
          for (const e of events) payloads.push(encoder.encode(e));
          return sender.sendBatch(payloads, fixedPort);
        }
        const ports: number[] = [];
        for (const e of events) {
          const text = portTemplate.render(e.fields);
          const port = portOf(text);
          if (port === undefined) {
            badPort.inc();
            const now = ctx.clock.now();
            if (now - lastBadPortLog >= 1000) {
              lastBadPortLog = now;
              ctx.logger.error({ port: text, template: o.port, dropped_total: badPort.value }, 'udp output: the port of an event is not a port number; event dropped');
            }
            continue;
          }
          payloads.push(encoder.encode(e));
          ports.push(port);
        }
        return sender.sendBatch(payloads, ports);
      },
      close: () => sender.close(),
    };
  },
});
