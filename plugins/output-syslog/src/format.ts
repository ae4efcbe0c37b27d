import { compileJoda, compileTemplate, type Event, type Template } from '@pipeline/core';

/**
 * Facility names to codes (RFC 5424 table 1): Logstash's labels, the labels the syslog input
 * writes (`system`, `UUCP`, `FTP`, `NTP`), the usual short names (`auth`, `cron`, `kern`...) and the
 * codes themselves. Matched case-insensitively. A Map, never an object: the name may come from an event.
 */
const FACILITY_CODES = new Map<string, number>([
  ['kernel', 0], ['kern', 0],
  ['user-level', 1], ['user', 1],
  ['mail', 2],
  ['daemon', 3], ['system', 3],
  ['security/authorization', 4], ['auth', 4], ['security', 4],
  ['syslogd', 5], ['syslog', 5],
  ['line printer', 6], ['lpr', 6],
  ['network news', 7], ['news', 7],
  ['uucp', 8],
  ['clock', 9], ['cron', 9],
  ['authpriv', 10],
  ['ftp', 11],
  ['ntp', 12],
  ['log audit', 13],
  ['log alert', 14],
  ...Array.from({ length: 8 }, (_, i) => [`local${i}`, 16 + i] as [string, number]),
  ...Array.from({ length: 24 }, (_, i) => [String(i), i] as [string, number]),
]);

const SEVERITY_CODES = new Map<string, number>([
  ['emergency', 0], ['emerg', 0],
  ['alert', 1],
  ['critical', 2], ['crit', 2],
  ['error', 3], ['err', 3],
  ['warning', 4], ['warn', 4],
  ['notice', 5],
  ['informational', 6], ['info', 6],
  ['debug', 7],
  ...Array.from({ length: 8 }, (_, i) => [String(i), i] as [string, number]),
]);

/** Logstash's fallbacks: user-level, notice, and priority 13 for a priority that is not 0..191. */
const DEFAULT_FACILITY = 1;
const DEFAULT_SEVERITY = 5;
const DEFAULT_PRIORITY = 13;

export const facilityNames = (): string[] => [...FACILITY_CODES.keys()].filter((k) => !/^\d/.test(k));
export const severityNames = (): string[] => [...SEVERITY_CODES.keys()].filter((k) => !/^\d/.test(k));

export function facilityCode(label: string): number | undefined {
  return FACILITY_CODES.get(label.trim().toLowerCase());
}

export function severityCode(label: string): number | undefined {
  return SEVERITY_CODES.get(label.trim().toLowerCase());
}

export interface SyslogFormat {
  rfc: 'rfc3164' | 'rfc5424';
  facility: string;
  severity: string;
  use_labels: boolean;
  priority: string;
  sourcehost: string;
  appname: string;
  procid: string;
  msgid: string;
  structured_data: string;
  /** Octet-counted framing: line breaks in the message are sent as they are (LF framing escapes them). */
  keepNewlines: boolean;
}

/** Header fields are printable US-ASCII without spaces (RFC 5424 PRINTUSASCII); anything else becomes `_`. */
const NOT_PRINTABLE = /[^\x21-\x7e]/;
const NOT_PRINTABLE_ALL = /[^\x21-\x7e]/g;

function headerField(s: string, max: number): string {
  if (s.length === 0) return '-';
  if (NOT_PRINTABLE.test(s)) s = s.replace(NOT_PRINTABLE_ALL, '_');
  return s.length > max ? s.slice(0, max) : s;
}

/** Ruby's rstrip (what Logstash applies): trailing NUL, tab, LF, VT, FF, CR and space; a loop, so a long run costs nothing. */
export function rstrip(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0) end--;
    else break;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** The message part as Logstash sends it: trailing blanks cut, CRLF and LF written as the two characters `\n`. */
export function messageText(payload: string, keepNewlines: boolean): string {
  const m = rstrip(payload);
  if (keepNewlines || m.indexOf('\n') < 0) return m;
  return m.replace(/\r\n/g, '\n').replace(/\n/g, '\\n');
}

function oneLine(s: string): string {
  return /[\r\n]/.test(s) ? s.replace(/[\r\n]/g, ' ') : s;
}

/** A code from a label template: resolved once when the template is static. */
function codeOf(source: string, lookup: (s: string) => number | undefined, fallback: number): (e: Event) => number {
  const t = compileTemplate(source);
  if (!t.dynamic) {
    const code = lookup(source) ?? fallback;
    return () => code;
  }
  // events in a row mostly carry the same label: the last one's code is kept
  let last: string | undefined;
  let lastCode = fallback;
  return (e) => {
    const label = t.render(e.fields);
    if (label !== last) {
      last = label;
      lastCode = lookup(label) ?? fallback;
    }
    return lastCode;
  };
}

/**
 * A Joda pattern with a resolution of one second, formatted once per second: events of a batch
 * mostly share their second, and formatting a date costs more than all the rest of a message.
 */
function perSecond(pattern: string): (ms: number) => string {
  const fmt = compileJoda(pattern);
  let second = NaN;
  let text = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      text = fmt(s * 1000);
    }
    return text;
  };
}

const MILLIS = Array.from({ length: 1000 }, (_, i) => '.' + String(i).padStart(3, '0'));

function rendered(t: Template): (e: Event) => string {
  if (!t.dynamic) return () => t.source;
  return (e) => t.render(e.fields);
}

/** A header field from its template, made safe (see headerField): once at load when the template is static. */
function header(source: string, max: number): (e: Event) => string {
  const t = compileTemplate(source);
  if (!t.dynamic) {
    const fixed = headerField(source, max);
    return () => fixed;
  }
  return (e) => headerField(t.render(e.fields), max);
}

/**
 * Compiles the options into a function from an event and its message text to one syslog message
 * (no framing): `<PRI>Mmm dd HH:mm:ss HOST APP[PROCID]: MSG` (RFC 3164) or
 * `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG` (RFC 5424), times in UTC as Logstash writes them.
 */
export function compileSyslog(o: SyslogFormat): (event: Event, message: string) => string {
  let pri: (e: Event) => number;
  if (o.use_labels) {
    const facility = codeOf(o.facility, facilityCode, DEFAULT_FACILITY);
    const severity = codeOf(o.severity, severityCode, DEFAULT_SEVERITY);
    pri = (e) => facility(e) * 8 + severity(e);
  } else {
    const t = compileTemplate(o.priority);
    pri = (e) => {
      const s = t.render(e.fields);
      if (!/^\s*\d{1,3}\s*$/.test(s)) return DEFAULT_PRIORITY;
      const n = Number(s);
      return n <= 191 ? n : DEFAULT_PRIORITY;
    };
  }
  const host = header(o.sourcehost, 255);
  const keep = o.keepNewlines;
  if (o.rfc === 'rfc3164') {
    const ts = perSecond('MMM dd HH:mm:ss');
    const app = header(o.appname, 255);
    const procid = header(o.procid, 128);
    return (e, message) => `<${pri(e)}>${ts(e.timestamp.ms)} ${host(e)} ${app(e)}[${procid(e)}]: ${messageText(message, keep)}`;
  }
  const app = header(o.appname, 48);
  const procid = header(o.procid, 128);
  const msgid = header(o.msgid, 32);
  // yyyy-MM-dd'T'HH:mm:ss.SSSZZ in UTC, as Logstash's sprintf writes it
  const seconds = perSecond("yyyy-MM-dd'T'HH:mm:ss");
  const ts = (ms: number) => seconds(ms) + (MILLIS[Math.floor(ms) - Math.floor(ms / 1000) * 1000] ?? '.000') + '+00:00';
  const sdTemplate = rendered(compileTemplate(o.structured_data));
  // a line break from an event must not end the frame early
  const sd = o.structured_data === '' ? () => '-' : keep ? sdTemplate : (e: Event) => oneLine(sdTemplate(e));
  return (e, message) =>
    `<${pri(e)}>1 ${ts(e.timestamp.ms)} ${host(e)} ${app(e)} ${procid(e)} ${msgid(e)} ${sd(e) || '-'} ${messageText(message, keep)}`;
}

/** RFC 6587 framing of one message over a stream. */
export function frame(message: string, octetCounted: boolean): string {
  return octetCounted ? `${Buffer.byteLength(message)} ${message}` : message + '\n';
}
