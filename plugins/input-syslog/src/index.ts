import { definePlugin, Event, fieldRef, opt, Timestamp, type InputSink } from '@pipeline/core';
import { datagramBytes, Framer, listenOptions, streamServerOf, tlsTuningOptions, UdpServer, type ListenSettings, type Peer, type StreamServer } from '@pipeline/net';
import { parseSyslog } from './parse.js';
import { wallClock } from './zone.js';

export { parseSyslog, type Parsed } from './parse.js';

/** Logstash's default labels, indexed by facility and severity number. */
const FACILITY_LABELS = [
  'kernel', 'user-level', 'mail', 'system', 'security/authorization', 'syslogd', 'line printer', 'network news',
  'UUCP', 'clock', 'security/authorization', 'FTP', 'NTP', 'log audit', 'log alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
const SEVERITY_LABELS = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];

/**
 * Field names: Logstash's syslog input with ecs_compatibility disabled, and with v1/v8 (its own
 * keys, and those of the ECS SYSLOGLINE/SYSLOG5424LINE grok patterns for the parsed header).
 */
const LEGACY = {
  host: 'host', priority: 'priority', facility: 'facility', severity: 'severity', facility_label: 'facility_label', severity_label: 'severity_label',
  timestamp: 'timestamp', logsource: 'logsource', program: 'program', pid: 'pid', msgid: 'msgid', structured_data: 'structured_data',
};
const ECS: typeof LEGACY = {
  host: '[host][ip]', priority: '[log][syslog][priority]', facility: '[log][syslog][facility][code]', severity: '[log][syslog][severity][code]',
  facility_label: '[log][syslog][facility][name]', severity_label: '[log][syslog][severity][name]',
  timestamp: 'timestamp', logsource: '[host][hostname]', program: '[process][name]', pid: '[process][pid]', msgid: '[event][code]', structured_data: '[system][syslog][structured_data]',
};

export default definePlugin({
  kind: 'input',
  name: 'syslog',
  description: 'Receives syslog (RFC 3164 and RFC 5424) over TCP and UDP on one port, parsed into fields.',
  defaultCodec: 'plain',
  codecInput: 'message',
  options: {
    port: opt.port({ min: 0, default: 514, description: 'Port for both TCP and UDP (0 = any free port, the same for both).' }),
    ...listenOptions,
    receive_buffer_bytes: opt.number({ description: 'UDP socket receive buffer (SO_RCVBUF); capped by net.core.rmem_max.' }),
    buffer_size: opt.number({ default: 65536, description: 'Longest UDP datagram kept (bytes).' }),
    use_labels: opt.bool({ default: true, description: 'Add facility_label and severity_label.' }),
    facility_labels: opt.strings({ default: FACILITY_LABELS, description: 'Labels by facility number.' }),
    severity_labels: opt.strings({ default: SEVERITY_LABELS, description: 'Labels by severity number.' }),
    timezone: opt.string({
      description: 'IANA zone of timestamps that carry none (RFC 3164); default: the system zone.',
      validate: (z: string) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: z });
          return undefined;
        } catch {
          return `unknown time zone '${z}'`;
        }
      },
    }),
    locale: opt.string({ deprecated: 'has no effect: month names are read in English', description: 'Logstash: the locale of month names; accepted and ignored with a warning (English month names).' }),
    ...tlsTuningOptions,
    ecs_compatibility: opt.string({
      default: 'disabled',
      values: ['disabled', 'v1', 'v8'],
      description: 'disabled: priority, facility, ..., host at the top level; v1, v8: [log][syslog][...], [host][ip], [host][hostname], [process][name], [process][pid] (a number), as Logstash.',
    }),
    syslog_field: opt.field({ default: 'message', description: 'Field whose text is parsed as a syslog line (the parsed message goes to message).' }),
    grok_pattern: opt.string({
      deprecated: 'has no effect: the syslog header is parsed natively (RFC 3164 and RFC 5424); parse further with a grok filter',
      description: "Logstash: the grok pattern of the line; accepted and ignored with a warning (Pipeline's parser reads RFC 3164 and RFC 5424).",
    }),
    proxy_protocol: opt.bool({
      default: false,
      description: 'PROXY protocol v1 headers; not supported: true is refused at -t.',
      validate: (v: boolean) => (v ? 'the PROXY protocol is not supported; remove proxy_protocol or set it to false' : undefined),
    }),
  },
  create(o, ctx) {
    const clock = ctx.clock;
    const events = ctx.metrics.counter('events');
    const failures = ctx.metrics.counter('parse_failures');
    const oversize = ctx.metrics.counter('oversize_lines');
    const framingErrors = ctx.metrics.counter('framing_errors');
    const wall = wallClock(o.timezone);
    const { use_labels: labels, facility_labels: fLabels, severity_labels: sLabels } = o;

    /**
     * As Logstash's syslog input: each line (TCP) or datagram (UDP) goes through the codec as one
     * message, and the syslog header is then parsed from each decoded event's `message` (so
     * `codec => json` reads a JSON line whose message is a syslog line). Events whose message is
     * not text are passed on tagged _syslogparsefailure.
     */
    const k = o.ecs_compatibility === 'disabled' ? LEGACY : ECS;
    const ecs = k === ECS;
    const F = Object.fromEntries(Object.entries(k).map(([n, f]) => [n, fieldRef(f)])) as Record<keyof typeof LEGACY, ReturnType<typeof fieldRef>>;
    const source = fieldRef(o.syslog_field);
    const parseInto = (e: Event, host: string, sslsubject: string | undefined) => {
      const f = e.fields;
      const text = source.get(f);
      const p = typeof text === 'string' ? parseSyslog(text, host, clock.now(), wall) : undefined;
      const priority = p?.priority ?? 13;
      const facility = priority >> 3;
      const severity = priority & 7;
      if (p) f.message = p.message;
      F.host.set(f, host);
      F.priority.set(f, priority);
      F.facility.set(f, facility);
      F.severity.set(f, severity);
      if (labels) {
        F.facility_label.set(f, fLabels[facility]);
        F.severity_label.set(f, sLabels[severity]);
      }
      if (p) {
        if (p.timestamp !== undefined) F.timestamp.set(f, p.timestamp);
        if (p.logsource !== undefined) F.logsource.set(f, p.logsource);
        if (p.program !== undefined) F.program.set(f, p.program);
        if (p.pid !== undefined) F.pid.set(f, ecs && /^\d+$/.test(p.pid) ? Number(p.pid) : p.pid);
        if (p.msgid !== undefined) F.msgid.set(f, p.msgid);
        if (p.structuredData !== undefined) F.structured_data.set(f, p.structuredData);
        if (p.epochMs !== undefined) e.timestamp = new Timestamp(p.epochMs);
      } else {
        failures.inc();
        e.tag('_syslogparsefailure');
      }
      if (sslsubject !== undefined) f.sslsubject = sslsubject;
      events.inc();
    };

    const openTcp = (peer: Peer, sink: InputSink) => {
      const decoder = ctx.codec.create(); // one per connection, never one per line
      const emit = (e: Event) => {
        parseInto(e, peer.host, peer.sslsubject);
        sink.push(e);
      };
      const framer = new Framer(o.max_line_bytes, {
        frame(bytes) {
          if (bytes.length > 0) decoder.decodeMessage(bytes, emit);
        },
        oversize: () => oversize.inc(),
        framingError: () => framingErrors.inc(),
      });
      return { data: (c: Buffer) => framer.push(c), end: () => framer.end() };
    };

    // the UDP socket's decoder and emit, made once: the sender is read from these per datagram
    const udpDecoder = ctx.codec.create();
    let from = '';
    let target: InputSink;
    const emitUdp = (e: Event) => {
      parseInto(e, from, undefined);
      target.push(e);
    };
    let tcp: StreamServer | undefined;
    let udp: UdpServer | undefined;
    let stopped: () => void;
    const done = new Promise<void>((r) => (stopped = r));
    return {
      async run(sink) {
        tcp = streamServerOf(o as ListenSettings, ctx, openTcp);
        try {
          await tcp.listen(sink);
          udp = new UdpServer({
            host: o.host,
            port: tcp.port,
            bufferSize: o.buffer_size,
            receiveBufferBytes: o.receive_buffer_bytes,
            logger: ctx.logger,
            metrics: ctx.metrics,
            clock,
            onMessage(msg, host, _port, s) {
              // bytes: the codec decodes them by its charset
              const bytes = datagramBytes(msg);
              if (bytes.length === 0) return;
              from = host;
              target = s;
              udpDecoder.decodeMessage(bytes, emitUdp);
            },
          });
          await udp.listen(sink);
          await done;
        } finally {
          await tcp.close();
          await udp?.close();
        }
      },
      stop() {
        stopped();
      },
      reload() {
        tcp?.reload();
      },
    };
  },
});
