/**
 * Counters and gauges, named per plugin. The monitoring API and `pipeline status` read a snapshot;
 * plugins hold the Counter object they asked for once, so counting costs one addition per event.
 *
 * A metric has a path (the scopes it was created under, then its name) and, optionally, labels.
 * Labels are for values that come from data (a rule, a file): `counter('rule_matches', { rule })`
 * gives one series per rule in one family, where building the name from the data would give one
 * family per rule. How paths and labels become Prometheus names is decided in one place,
 * core/src/monitoring/prometheus.ts.
 */
export interface Counter {
  inc(n?: number): void;
  readonly value: number;
}

export interface Gauge {
  set(v: number): void;
  readonly value: number;
}

export type MetricLabels = Readonly<Record<string, string>>;

export interface Metrics {
  /** A counter; with `labels`, one series of the family `name` (same labels → same counter). */
  counter(name: string, labels?: MetricLabels): Counter;
  gauge(name: string, labels?: MetricLabels): Gauge;
  /** Metrics under a sub-namespace, e.g. one per plugin id. */
  scope(name: string): Metrics;
}

class CounterImpl implements Counter {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}
class GaugeImpl implements Gauge {
  value = 0;
  /** The value last handed over by drainDeltas. */
  sent = 0;
  set(v: number): void {
    this.value = v;
  }
}

export type MetricType = 'counter' | 'gauge';

/** One named metric of a scope: an unlabelled value (key '') and/or labelled series. */
interface Family {
  type: MetricType;
  series: Map<string, { labels: MetricLabels; cell: CounterImpl | GaugeImpl }>;
}

/** One series as the Prometheus rendering walks them. */
export interface MetricSample {
  path: readonly string[];
  type: MetricType;
  labels: MetricLabels;
  value: number;
}

/** What a worker thread's registry counted since it last reported: scope path, name, labels, type, amount (a gauge: its value). */
export type MetricDelta = [path: string[], name: string, labels: MetricLabels, type: MetricType, value: number];

export type MetricsSnapshot = { [key: string]: number | MetricsSnapshot };

// Label sets are keyed by their values in name order, so {a,b} and {b,a} are one series.
const seriesKey = (labels: MetricLabels | undefined): string => {
  if (!labels) return '';
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  names.sort();
  return names.map((n) => `${n}=${labels[n]}`).join(',');
};

export class MetricsRegistry implements Metrics {
  private readonly families = new Map<string, Family>();
  private readonly children = new Map<string, MetricsRegistry>();

  counter(name: string, labels?: MetricLabels): Counter {
    return this.cell(name, 'counter', labels) as CounterImpl;
  }

  gauge(name: string, labels?: MetricLabels): Gauge {
    return this.cell(name, 'gauge', labels) as GaugeImpl;
  }

  private cell(name: string, type: MetricType, labels: MetricLabels | undefined): CounterImpl | GaugeImpl {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { type, series: new Map() }));
    // A name is one family of one type: asking for a gauge where a counter lives is a plugin bug,
    // said at load time rather than as a wrong number on a dashboard.
    else if (f.type !== type) throw new Error(`metric "${name}" is a ${f.type}, asked for as a ${type}`);
    const key = seriesKey(labels);
    let s = f.series.get(key);
    if (!s) f.series.set(key, (s = { labels: { ...labels }, cell: type === 'counter' ? new CounterImpl() : new GaugeImpl() }));
    return s.cell;
  }

  scope(name: string): MetricsRegistry {
    let s = this.children.get(name);
    if (!s) this.children.set(name, (s = new MetricsRegistry()));
    return s;
  }

  /**
   * The JSON view (/_node/stats, tests): unlabelled metrics are numbers; a labelled family is an
   * object keyed by its label values (joined by "," when there are several), e.g.
   * `rule_matches: { "ssh.sec:12": 3 }`.
   */
  snapshot(): MetricsSnapshot {
    const out: MetricsSnapshot = {};
    for (const [k, f] of this.families) {
      const plain = f.series.get('');
      if (plain && f.series.size === 1) {
        out[k] = plain.cell.value;
        continue;
      }
      const byLabel: MetricsSnapshot = {};
      for (const [key, s] of f.series) byLabel[key === '' ? '' : Object.values(s.labels).join(',')] = s.cell.value;
      out[k] = byLabel;
    }
    for (const [k, child] of this.children) out[k] = child.snapshot();
    return out;
  }

  /** Every series with its full path, for the Prometheus rendering. */
  *samples(path: readonly string[] = []): Generator<MetricSample> {
    for (const [name, f] of this.families) {
      const p = [...path, name];
      for (const s of f.series.values()) yield { path: p, type: f.type, labels: s.labels, value: s.cell.value };
    }
    for (const [k, child] of this.children) yield* child.samples([...path, k]);
  }

  /**
   * Counts since the last call, for a registry in a filter worker thread: each counter's value is
   * handed over and zeroed, each gauge that moved is handed over; `applyDeltas` on the main
   * thread's registry adds them in, so /metrics shows one total whichever thread counted.
   */
  drainDeltas(out: MetricDelta[] = [], path: string[] = []): MetricDelta[] {
    for (const [name, f] of this.families)
      for (const s of f.series.values()) {
        const c = s.cell;
        if (c instanceof CounterImpl) {
          if (c.value === 0) continue;
          out.push([path, name, s.labels, 'counter', c.value]);
          c.value = 0;
        } else if (c.value !== c.sent) {
          out.push([path, name, s.labels, 'gauge', c.value]);
          c.sent = c.value;
        }
      }
    for (const [k, child] of this.children) child.drainDeltas(out, [...path, k]);
    return out;
  }

  applyDeltas(deltas: readonly MetricDelta[]): void {
    for (const [path, name, labels, type, value] of deltas) {
      let scope: MetricsRegistry = this;
      for (const p of path) scope = scope.scope(p);
      if (type === 'counter') scope.counter(name, labels).inc(value);
      else scope.gauge(name, labels).set(value);
    }
  }
}
