import { definePlugin, fieldRef, opt, parseFieldPath, type FieldRef } from '@pipeline/core';
import { recognise, type OpenVpnEvent } from './events.js';
import { parsePrefixes } from './prefix.js';

export { recognise, type EventKind, type OpenVpnEvent } from './events.js';

const options = {
  source: opt.field({ default: 'message', description: 'field holding the OpenVPN log line' }),
  target: opt.field({ default: 'openvpn', description: 'field the parsed parts go under' }),
  tag_on_failure: opt.strings({ default: [], description: 'tags added when the line is not one of the recognised OpenVPN messages' }),
};

/** Parts of an OpenVpnEvent, in the order they are written under the target. */
const PARTS = ['event', 'common_name', 'username', 'real_ip', 'real_port', 'virtual_ip', 'virtual_ipv6', 'signal', 'reason'] as const;

export default definePlugin({
  kind: 'filter',
  name: 'openvpn',
  parallel: true,
  description: 'Parses OpenVPN server log lines (connect, auth failure, TLS error, disconnect, assigned address) into fields; tags them openvpn.',
  options,
  create(o) {
    const source = fieldRef(o.source);
    const prefix = parseFieldPath(o.target).map((k) => `[${k}]`).join('');
    const parts = PARTS.map((k) => [k, fieldRef(`${prefix}[${k}]`)] as const);
    const timestamp = fieldRef(`${prefix}[timestamp]`);
    const syslog: [FieldRef, 'syslogTimestamp' | 'syslogHostname' | 'syslogProgram' | 'syslogPid'][] = [
      [fieldRef('syslog_timestamp'), 'syslogTimestamp'],
      [fieldRef('syslog_hostname'), 'syslogHostname'],
      [fieldRef('syslog_program'), 'syslogProgram'],
      [fieldRef('syslog_pid'), 'syslogPid'],
    ];
    const failureTags = o.tag_on_failure;
    return {
      filter(event) {
        const line = event.get(source);
        if (typeof line !== 'string') {
          for (const t of failureTags) event.tag(t);
          return false;
        }
        const p = parsePrefixes(line);
        const parsed: OpenVpnEvent = { event: 'connected', common_name: p.commonName, real_ip: p.realIp, real_port: p.realPort };
        if (!recognise(p.offset === 0 ? line : line.slice(p.offset), parsed)) {
          for (const t of failureTags) event.tag(t);
          return false;
        }
        for (const [k, ref] of parts) {
          const v = parsed[k];
          if (v !== undefined) event.set(ref, v);
        }
        if (p.timestamp !== undefined) event.set(timestamp, p.timestamp);
        for (const [ref, k] of syslog) {
          const v = p[k];
          if (v !== undefined && !event.includes(ref)) event.set(ref, v);
        }
        event.tag('openvpn');
        return true;
      },
    };
  },
});
