/**
 * Parses one Snort / Suricata fast-alert line:
 *
 *   01/28-08:39:14.541245  [**] [1:2100498:7] GPL ATTACK_RESPONSE id check returned root [**]
 *     [Classification: Potentially Bad Traffic] [Priority: 2] {TCP} 217.160.0.187:80 -> 192.168.1.2:54321
 *
 * and its variants: Snort's syslog form (no `[**]`, a `:` after the priority), Suricata's IPS
 * `[Drop]`/`[wDrop]` prefix, Snort 3's quoted message and `[AppID: ...]`, the year that `snort -y`
 * adds to the time, ports absent for ICMP, and IPv4 or IPv6 addresses. One anchored regex,
 * compiled once; a line that is not an alert returns undefined.
 */
import { hasPorts, parseEndpoint, type Endpoint } from './endpoint.js';
import { parseSyslogPrefix, type SyslogPrefix } from './syslog-prefix.js';

export interface SnortAlert {
  syslog?: SyslogPrefix;
  /** The alert's own time as written (`MM/DD[/YY[YY]]-hh:mm:ss.uuuuuu`; Suricata writes the year, Snort with -y), when the line has one. */
  alertTime?: string;
  /** Suricata's IPS verdict: `Drop` or `wDrop`. */
  action?: string;
  gid: number;
  sid: number;
  rev: number;
  message: string;
  classification?: string;
  priority?: number;
  appId?: string;
  protocol: string;
  src: Endpoint;
  dest: Endpoint;
}

const ALERT_TIME = /^(\d\d\/\d\d(?:\/\d\d(?:\d\d)?)?-\d\d:\d\d:\d\d(?:\.\d+)?)\s+/;
const ALERT =
  /^(?:\[(Drop|wDrop)\] )?(?:\[\*\*\] )?\[(\d+):(\d+):(\d+)\] (.*?)(?: \[\*\*\])?(?: \[Classification: ([^\]]*)\])?(?: \[Priority: (\d+)\])?:?(?: \[AppID: ([^\]]*)\])? \{([^}]+)\} (\S+) -> (\S+)\s*$/;

export function parseAlert(line: string): SnortAlert | undefined {
  let rest = line;
  const syslog = parseSyslogPrefix(rest);
  if (syslog !== undefined) rest = rest.slice(syslog.length);
  const t = ALERT_TIME.exec(rest);
  if (t !== null) rest = rest.slice(t[0].length);
  const m = ALERT.exec(rest);
  if (m === null) return undefined;
  const protocol = m[9]!;
  const ported = hasPorts(protocol);
  const src = parseEndpoint(m[10]!, ported);
  const dest = parseEndpoint(m[11]!, ported);
  if (src === undefined || dest === undefined) return undefined;
  let message = m[5]!;
  if (message.length >= 2 && message.startsWith('"') && message.endsWith('"')) message = message.slice(1, -1);
  return {
    syslog,
    alertTime: t?.[1],
    action: m[1],
    gid: Number(m[2]),
    sid: Number(m[3]),
    rev: Number(m[4]),
    message,
    classification: m[6],
    priority: m[7] === undefined ? undefined : Number(m[7]),
    appId: m[8],
    protocol,
    src,
    dest,
  };
}
