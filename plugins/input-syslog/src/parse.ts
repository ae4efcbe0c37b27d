import { getField, setField } from '@pipeline/core';
import type { WallToEpoch } from './zone.js';

/**
 * Parses one syslog message, RFC 5424 or RFC 3164 (BSD), into Logstash's syslog-input fields.
 * RFC 3164 is taken as real senders write it: PRI optional, "Mmm dd hh:mm:ss" (optionally with a
 * year or fraction) or an ISO 8601 timestamp, the hostname optional (pfSense and other BSD
 * syslogds omit it; then the tag is recognised by its colon and `logsource` is the sender's
 * address), and a tag "program[pid]:" that may be absent.
 */
export interface Parsed {
  priority: number;
  timestamp?: string;
  /** Epoch ms of `timestamp`, when it could be read. */
  epochMs?: number;
  logsource?: string;
  program?: string;
  pid?: string;
  msgid?: string;
  structuredData?: Record<string, Record<string, string>>;
  message: string;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

const RE_5424 = /^<(\d{1,3})>([1-9]\d?) (\S+) (\S+) (\S+) (\S+) (\S+) /;
const RE_PRI = /^<(\d{1,3})>/;
const RE_BSD_TS = /^([A-Z][a-z]{2}) {1,2}(\d{1,2})(?: (\d{4}))? (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?: [A-Z]{3,4}(?=[ :]))?:? /;
const RE_ISO_TS = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?) /;
/** "program[pid]:" or "program:" followed by a space or the end. */
const RE_TAG = /^([^\s[\]:]+)(?:\[([^\]\s]*)\])?:(?: |$)/;

export function parseSyslog(text: string, peer: string, nowMs: number, wall: WallToEpoch): Parsed | undefined {
  if (text.charCodeAt(0) === 60 /* < */) {
    const m = RE_5424.exec(text);
    if (m) return parse5424(text, m, peer);
  }
  return parse3164(text, peer, nowMs, wall);
}

function priorityOf(s: string): number | undefined {
  const n = Number(s);
  return n <= 191 ? n : undefined;
}

const nil = (s: string) => (s === '-' ? undefined : s);

function parse5424(text: string, m: RegExpExecArray, peer: string): Parsed | undefined {
  const priority = priorityOf(m[1]!);
  if (priority === undefined) return undefined;
  const ts = nil(m[3]!);
  let epochMs: number | undefined;
  if (ts !== undefined) {
    epochMs = Date.parse(ts);
    if (Number.isNaN(epochMs)) return undefined;
  }
  let i = m[0].length;
  let structuredData: Parsed['structuredData'];
  if (text[i] === '-') i++;
  else if (text[i] === '[') {
    const sd = parseSD(text, i);
    if (!sd) return undefined;
    structuredData = sd.data;
    i = sd.end;
  } else return undefined;
  if (i < text.length && text[i] !== ' ') return undefined;
  let message = text.slice(i + 1);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1); // BOM of an UTF-8 MSG
  return {
    priority,
    timestamp: ts,
    epochMs,
    logsource: nil(m[4]!) ?? peer,
    program: nil(m[5]!),
    pid: nil(m[6]!),
    msgid: nil(m[7]!),
    structuredData,
    message,
  };
}

/** [id param="value" ...][...] with \" \\ \] escapes; returns the data and where it ends. */
function parseSD(text: string, i: number): { data: Record<string, Record<string, string>>; end: number } | undefined {
  const data: Record<string, Record<string, string>> = {};
  while (text[i] === '[') {
    i++;
    let j = i;
    while (j < text.length && text[j] !== ' ' && text[j] !== ']') j++;
    const id = text.slice(i, j);
    if (!id) return undefined;
    // ids and param names are data: getField/setField keep `__proto__` an ordinary key
    let params = getField(data, id) as Record<string, string> | undefined;
    if (params === undefined) setField(data, id, (params = {}));
    i = j;
    while (text[i] === ' ') {
      i++;
      const eq = text.indexOf('="', i);
      if (eq < 0) return undefined;
      const name = text.slice(i, eq);
      if (!name || /[\s\]"]/.test(name)) return undefined;
      i = eq + 2;
      let value = '';
      for (;;) {
        if (i >= text.length) return undefined;
        const c = text[i]!;
        if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      setField(params, name, value);
    }
    if (text[i] !== ']') return undefined;
    i++;
  }
  return { data, end: i };
}

function parse3164(text: string, peer: string, nowMs: number, wall: WallToEpoch): Parsed | undefined {
  let i = 0;
  let priority = 13; // RFC 3164 4.3.3: no PRI means user.notice
  const p = RE_PRI.exec(text);
  if (p) {
    const n = priorityOf(p[1]!);
    if (n === undefined) return undefined;
    priority = n;
    i = p[0].length;
  }
  let rest = text.slice(i);
  let timestamp: string;
  let epochMs: number | undefined;
  const b = RE_BSD_TS.exec(rest);
  if (b) {
    const mo = MONTHS[b[1]!];
    if (mo === undefined) return undefined;
    timestamp = b[0].slice(0, -1).replace(/:$/, '');
    const ms = b[7] ? Number(b[7].padEnd(3, '0').slice(0, 3)) : 0;
    const d = Number(b[2]);
    const [h, mi, s] = [Number(b[4]), Number(b[5]), Number(b[6])];
    if (b[3]) epochMs = wall(Number(b[3]), mo, d, h, mi, s, ms);
    else {
      // no year: this year, unless that is well in the future (December's messages read in January)
      const year = new Date(nowMs).getFullYear();
      epochMs = wall(year, mo, d, h, mi, s, ms);
      if (epochMs - nowMs > 7 * 86_400_000) epochMs = wall(year - 1, mo, d, h, mi, s, ms);
    }
    rest = rest.slice(b[0].length);
  } else {
    const iso = RE_ISO_TS.exec(rest);
    if (!iso) return undefined;
    timestamp = iso[1]!;
    if (iso[2]) epochMs = Date.parse(timestamp.replace(' ', 'T'));
    else {
      const [, y, mo, d, h, mi, s, f] = /^(\d{4})-(\d\d)-(\d\d).(\d\d):(\d\d):(\d\d)(?:\.(\d+))?/.exec(timestamp)!;
      epochMs = wall(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, f ? Number(f.padEnd(3, '0').slice(0, 3)) : 0);
    }
    if (Number.isNaN(epochMs)) epochMs = undefined;
    rest = rest.slice(iso[0].length);
  }
  let logsource: string | undefined;
  let tag = RE_TAG.exec(rest);
  if (!tag) {
    // the first word is the hostname
    const sp = rest.indexOf(' ');
    logsource = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? '' : rest.slice(sp + 1);
    if (!logsource) return undefined;
    tag = RE_TAG.exec(rest);
  }
  let program: string | undefined;
  let pid: string | undefined;
  if (tag) {
    program = tag[1];
    pid = tag[2] || undefined;
    rest = rest.slice(tag[0].length);
  }
  return { priority, timestamp, epochMs, logsource: logsource ?? peer, program, pid, message: rest };
}
