/**
 * The syslog header that may precede an alert when Snort logs with `-s` (or `alert_syslog`) and
 * rsyslog forwards the line: `Jan 28 08:39:14 fw1 snort[1234]: ` (BSD) or
 * `2024-01-28T08:39:14.123+01:00 fw1 snort[1234]: ` (RFC 3339), an optional `<PRI>` in front.
 * The host is optional because some senders (pfSense, the reference setup) leave it out.
 */
export interface SyslogPrefix {
  timestamp: string;
  hostname?: string;
  program: string;
  pid?: string;
  /** Length of the header, so the caller can parse the rest without copying. */
  length: number;
}

const PREFIX =
  /^(?:<\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?:(\S+) )?([^\s\[:]+)(?:\[(\d+)\])?: /;

export function parseSyslogPrefix(line: string): SyslogPrefix | undefined {
  const m = PREFIX.exec(line);
  if (m === null) return undefined;
  return { timestamp: m[1]!, hostname: m[2], program: m[3]!, pid: m[4], length: m[0].length };
}
