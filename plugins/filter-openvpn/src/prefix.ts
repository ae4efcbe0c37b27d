/**
 * The prefixes in front of an OpenVPN server message, outermost first:
 * 1. a syslog header when OpenVPN logs through syslog and rsyslog forwards it:
 *    `Mar 19 10:35:11 vpn1 ovpn-server[811]: ` (host optional, RFC 3339 time accepted);
 * 2. OpenVPN's own time when it writes a log file (`--log`): `Thu Mar 19 10:35:11 2020 ` or, from
 *    2.5, `2020-03-19 10:35:11 `, optionally followed by `us=123456 ` (`--verb 4` and up);
 * 3. the client instance: `common_name/real_ip:port ` once the TLS handshake has named the peer,
 *    `real_ip:port ` before that. IPv6 peers print as `2001:db8::5:49502`: the port is after the
 *    last colon (OpenVPN always prints it here).
 */
import { isIP } from 'node:net';

export interface Prefixes {
  syslogTimestamp?: string;
  syslogHostname?: string;
  syslogProgram?: string;
  syslogPid?: string;
  timestamp?: string;
  commonName?: string;
  realIp?: string;
  realPort?: number;
  /** Index where the message proper starts. */
  offset: number;
}

const SYSLOG =
  /^(?:<\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?:(\S+) )?([^\s\[:]+)(?:\[(\d+)\])?: /;
const OWN_TIME = /^([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?: us=\d+)? /;
const CLIENT = /^(?:([^\s/]+)\/)?(?:\[AF_INET6?\])?([0-9A-Fa-f:.]+):(\d{1,5}) /;

/** `ip:port` (IPv6 split at the last colon); undefined when the address is not an IP. */
export function splitAddress(text: string): { ip: string; port: number } | undefined {
  const i = text.lastIndexOf(':');
  if (i <= 0) return undefined;
  const ip = text.slice(0, i);
  const port = text.slice(i + 1);
  if (!/^\d{1,5}$/.test(port) || isIP(ip) === 0) return undefined;
  return { ip, port: Number(port) };
}

export function parsePrefixes(line: string): Prefixes {
  const p: Prefixes = { offset: 0 };
  let rest = line;
  let m = SYSLOG.exec(rest);
  if (m !== null) {
    p.syslogTimestamp = m[1];
    p.syslogHostname = m[2];
    p.syslogProgram = m[3];
    p.syslogPid = m[4];
    p.offset += m[0].length;
    rest = line.slice(p.offset);
  }
  m = OWN_TIME.exec(rest);
  if (m !== null) {
    p.timestamp = m[1];
    p.offset += m[0].length;
    rest = line.slice(p.offset);
  }
  m = CLIENT.exec(rest);
  if (m !== null) {
    const addr = splitAddress(`${m[2]}:${m[3]}`);
    if (addr !== undefined) {
      p.commonName = m[1];
      p.realIp = addr.ip;
      p.realPort = addr.port;
      p.offset += m[0].length;
    }
  }
  return p;
}
