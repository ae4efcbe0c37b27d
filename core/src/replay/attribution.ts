import type { Event } from '../event/event.js';
import { fieldRef } from '../event/field-ref.js';
import type { PluginContext } from '../plugin/define.js';
import type { Counter, Gauge, MetricLabels, Metrics } from '../plugin/metrics.js';

/**
 * Which rule raised an alert, for the replay summary. An alert event that names its rule
 * (`[sec][rule]`, file:line as the SEC plugin writes it on the alert and heartbeat events it raises)
 * is taken at its word and filed under that rule's desc= as written (so one rule is one line of the
 * summary whatever its $1 was; `[sec][desc]`, the desc after substitution, when the rule file is not
 * known). Otherwise the rule is the one the SEC plugin
 * counted in its `rule_matches{rule}` metric during the same step (replay/sections.ts: one event,
 * or one timer pass): a rule is counted when it matches, just before its action list runs, and a
 * Calendar rule just after its actions; so an alert goes to the rule counted last before it in its
 * step, else to the first counted after it. An alert no rule was counted for in its step (a window
 * that expired in a timer pass) is filed under its own event text.
 */
export interface Attributed {
  /** The rule's description (SEC's desc=, as written in the rule file). */
  desc: string;
  /** file:line of the rule, when known. */
  rule?: string;
}

const SEC_DESC = fieldRef('[sec][desc]');
const SEC_RULE = fieldRef('[sec][rule]');
const ALERT_EVENT = fieldRef('[alert][event]');
const HEARTBEAT_ORIGIN = fieldRef('[heartbeat][origin]');

export class Attribution {
  private depth = 0;
  /** Per step depth: the rule counted last, and alerts waiting for one. */
  private last: (string | undefined)[] = [undefined];
  private waiting: Event[][] = [[]];

  /** `descs` maps a rule label (file basename:line, as the SEC plugin labels its counters) to its desc. */
  constructor(
    private readonly descs: ReadonlyMap<string, string>,
    private readonly record: (e: Event, who: Attributed) => void,
  ) {}

  readonly step = {
    begin: (): void => {
      const d = ++this.depth;
      while (this.last.length <= d) {
        this.last.push(undefined);
        this.waiting.push([]);
      }
    },
    end: (): void => {
      const d = this.depth--;
      const w = this.waiting[d]!;
      if (w.length > 0) {
        for (const e of w) this.record(e, this.fallback(e));
        w.length = 0;
      }
      this.last[d] = undefined;
    },
  };

  private named(rule: string): Attributed {
    return { desc: this.descs.get(rule) ?? rule, rule };
  }

  private fallback(e: Event): Attributed {
    const ev = e.get(ALERT_EVENT);
    if (ev !== undefined) return { desc: String(ev) };
    const origin = e.get(HEARTBEAT_ORIGIN);
    return { desc: origin !== undefined ? `heartbeat ${String(origin)}` : String(e.fields.message ?? '') };
  }

  /** A rule was counted (matched) at the current step. */
  counted(rule: string): void {
    const d = this.depth;
    if (d === 0) return;
    this.last[d] = rule;
    const w = this.waiting[d]!;
    if (w.length > 0) {
      for (const e of w) this.record(e, this.named(rule));
      w.length = 0;
    }
  }

  /** An alert or heartbeat left the correlate section. */
  alert(e: Event): void {
    const named = e.get(SEC_RULE);
    const desc = e.get(SEC_DESC);
    if (typeof named === 'string') return this.record(e, { desc: this.descs.get(named) ?? (typeof desc === 'string' ? desc : named), rule: named });
    if (typeof desc === 'string') return this.record(e, { desc });
    const d = this.depth;
    const rule = this.last[d];
    if (rule !== undefined) this.record(e, this.named(rule));
    else if (d > 0) this.waiting[d]!.push(e);
    else this.record(e, this.fallback(e));
  }

  /** The plugin's context with its metrics watched: `rule_matches{rule}` counters tell `counted`. */
  watch(ctx: PluginContext): PluginContext {
    return { ...ctx, metrics: this.watchMetrics(ctx.metrics) };
  }

  private watchMetrics(m: Metrics): Metrics {
    const self = this;
    return {
      counter(name: string, labels?: MetricLabels): Counter {
        const c = m.counter(name, labels);
        const rule = name === 'rule_matches' ? labels?.rule : undefined;
        if (rule === undefined) return c;
        return {
          inc(n?: number) {
            c.inc(n);
            self.counted(rule);
          },
          get value() {
            return c.value;
          },
        };
      },
      gauge(name: string, labels?: MetricLabels): Gauge {
        return m.gauge(name, labels);
      },
      scope(name: string): Metrics {
        return self.watchMetrics(m.scope(name));
      },
    };
  }
}
