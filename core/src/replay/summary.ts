import type { Event } from '../event/event.js';
import type { Fields } from '../event/field-ref.js';
import type { Attributed } from './attribution.js';

/**
 * What a replay counts: lines read, events out of the filter section, parse-failure tags, late
 * events, events outside --from/--to, and per rule that fired: count, first and last time, a few
 * examples, and alerts per hour (the report's timeline).
 */
export interface RuleSummary {
  desc: string;
  /** file:line of the rule, when known. */
  rule?: string;
  count: number;
  /** ISO-8601 time of the first and last alert (the alert events' @timestamp: event time). */
  first: string;
  last: string;
  /** The first few alerts: their @timestamp and their alert (or heartbeat) fields. */
  examples: Fields[];
  /** Alerts per hour: hour start (ISO) -> count. */
  hours: Record<string, number>;
}

export interface ReplaySummary {
  files: string[];
  lines: number;
  events: number;
  /** Events per failure tag (`_grokparsefailure`, `_dateparsefailure`, any `_*failure`). */
  failures: Record<string, number>;
  late: number;
  /** Events left out by --from/--to. */
  skipped: number;
  /** Event time of the first and last event correlated (ISO), when any. */
  from?: string;
  to?: string;
  alerts: RuleSummary[];
  /** Wall-clock seconds the replay took (not event time). */
  seconds: number;
}

const EXAMPLES = 3;
const HOUR = 3_600_000;

export class SummaryCollector {
  lines = 0;
  events = 0;
  skipped = 0;
  private failures = new Map<string, number>([
    ['_grokparsefailure', 0],
    ['_dateparsefailure', 0],
  ]);
  private first = Infinity;
  private last = -Infinity;
  private rules = new Map<string, { s: RuleSummary; firstMs: number; lastMs: number; hours: Map<number, number> }>();

  constructor(
    private readonly fromMs = -Infinity,
    private readonly toMs = Infinity,
  ) {}

  /** An event left the filter section: counted; false when it falls outside --from/--to. */
  filtered(e: Event): boolean {
    this.events++;
    const tags = e.fields.tags;
    if (Array.isArray(tags))
      for (let i = 0; i < tags.length; i++) {
        const t = tags[i];
        if (typeof t === 'string' && t.charCodeAt(0) === 95 /* _ */ && t.endsWith('failure')) this.failures.set(t, (this.failures.get(t) ?? 0) + 1);
      }
    const ms = e.timestamp.ms;
    if (ms < this.fromMs || ms >= this.toMs) {
      this.skipped++;
      return false;
    }
    if (ms < this.first) this.first = ms;
    if (ms > this.last) this.last = ms;
    return true;
  }

  /** An alert or heartbeat a rule raised. */
  alert(e: Event, who: Attributed): void {
    const key = `${who.rule ?? ''}\u0000${who.desc}`;
    const ms = e.timestamp.ms;
    let r = this.rules.get(key);
    if (!r) this.rules.set(key, (r = { s: { desc: who.desc, rule: who.rule, count: 0, first: '', last: '', examples: [], hours: {} }, firstMs: ms, lastMs: ms, hours: new Map() }));
    r.s.count++;
    if (ms < r.firstMs) r.firstMs = ms;
    if (ms > r.lastMs) r.lastMs = ms;
    const h = Math.floor(ms / HOUR);
    r.hours.set(h, (r.hours.get(h) ?? 0) + 1);
    if (r.s.examples.length < EXAMPLES) {
      const f = e.fields;
      const ex: Fields = { '@timestamp': e.timestamp.toISOString() };
      if (f.alert !== undefined) ex.alert = f.alert;
      if (f.heartbeat !== undefined) ex.heartbeat = f.heartbeat;
      r.s.examples.push(JSON.parse(JSON.stringify(ex)) as Fields);
    }
  }

  summary(files: string[], late: number, seconds: number): ReplaySummary {
    const iso = (ms: number) => new Date(ms).toISOString();
    const alerts = [...this.rules.values()]
      .sort((a, b) => a.firstMs - b.firstMs)
      .map(({ s, firstMs, lastMs, hours }) => {
        const byHour: Record<string, number> = {};
        for (const [h, n] of [...hours].sort((a, b) => a[0] - b[0])) byHour[iso(h * HOUR)] = n;
        return { ...s, first: iso(firstMs), last: iso(lastMs), hours: byHour };
      });
    return {
      files,
      lines: this.lines,
      events: this.events,
      failures: Object.fromEntries(this.failures),
      late,
      skipped: this.skipped,
      ...(this.first <= this.last ? { from: iso(this.first), to: iso(this.last) } : {}),
      alerts,
      seconds,
    };
  }
}

const n = (x: number) => x.toLocaleString('en-US');

/** The summary as text, for a terminal. */
export function formatSummary(s: ReplaySummary): string {
  const out: string[] = [];
  const rate = s.seconds > 0 ? ` in ${s.seconds.toFixed(1)} s (${n(Math.round(s.lines / s.seconds))} lines/s)` : '';
  out.push(`replayed ${s.files.length} file${s.files.length === 1 ? '' : 's'}, ${n(s.lines)} lines${rate}`);
  out.push(`events    ${n(s.events)}${s.from ? `, event time ${s.from} .. ${s.to}` : ''}`);
  out.push(`failures  ${Object.entries(s.failures).map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  out.push(`late      ${n(s.late)} (correlated at the time already reached)`);
  if (s.skipped > 0) out.push(`skipped   ${n(s.skipped)} outside --from/--to`);
  const total = s.alerts.reduce((a, r) => a + r.count, 0);
  out.push(`alerts    ${n(total)} from ${s.alerts.length} rule${s.alerts.length === 1 ? '' : 's'}`);
  if (s.alerts.length > 0) {
    const w = Math.max(5, ...s.alerts.map((r) => n(r.count).length));
    out.push(`  ${'count'.padStart(w)}  ${'first'.padEnd(24)}  ${'last'.padEnd(24)}  rule`);
    for (const r of s.alerts) out.push(`  ${n(r.count).padStart(w)}  ${r.first.padEnd(24)}  ${r.last.padEnd(24)}  ${r.desc}${r.rule ? ` (${r.rule})` : ''}`);
  }
  return out.join('\n') + '\n';
}
