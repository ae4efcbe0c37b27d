import { definePlugin, Event, opt, Timestamp, type InputSink } from '@pipeline/core';
import { datagramBytes, Framer, listenOptions, streamServerOf, UdpServer, type ListenSettings, type Peer, type StreamServer } from '@pipeline/net';
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
    locale: opt.string({ description: 'Accepted for Logstash compatibility; month names are read in English.' }),
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
    const parseInto = (e: Event, host: string, port: number, sslsubject: string | undefined) => {
      const f = e.fields;
      const text = f.message;
      const p = typeof text === 'string' ? parseSyslog(text, host, clock.now(), wall) : undefined;
      const priority = p?.priority ?? 13;
      const facility = priority >> 3;
      const severity = priority & 7;
      if (p) f.message = p.message;
      f.host = host;
      f.port = port;
      f.priority = priority;
      f.facility = facility;
      f.severity = severity;
      if (labels) {
        f.facility_label = fLabels[facility];
        f.severity_label = sLabels[severity];
      }
      if (p) {
        if (p.timestamp !== undefined) f.timestamp = p.timestamp;
        if (p.logsource !== undefined) f.logsource = p.logsource;
        if (p.program !== undefined) f.program = p.program;
        if (p.pid !== undefined) f.pid = p.pid;
        if (p.msgid !== undefined) f.msgid = p.msgid;
        if (p.structuredData !== undefined) f.structured_data = p.structuredData;
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
        parseInto(e, peer.host, peer.port, peer.sslsubject);
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
    let fromPort = 0;
    let target: InputSink;
    const emitUdp = (e: Event) => {
      parseInto(e, from, fromPort, undefined);
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
            onMessage(msg, host, port, s) {
              // bytes: the codec decodes them by its charset
              const bytes = datagramBytes(msg);
              if (bytes.length === 0) return;
              from = host;
              fromPort = port;
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
