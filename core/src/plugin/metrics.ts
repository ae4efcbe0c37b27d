/**
 * Counters and gauges, named per plugin. The monitoring API and `pipeline status` read a snapshot;
 * plugins hold the Counter object they asked for once, so counting costs one addition per event.
 */
export interface Counter {
  inc(n?: number): void;
  readonly value: number;
}

export interface Gauge {
  set(v: number): void;
  readonly value: number;
}

export interface Metrics {
  counter(name: string): Counter;
  gauge(name: string): Gauge;
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
  set(v: number): void {
    this.value = v;
  }
}

export type MetricsSnapshot = { [key: string]: number | MetricsSnapshot };

export class MetricsRegistry implements Metrics {
  private readonly values = new Map<string, Counter | Gauge>();
  private readonly children = new Map<string, MetricsRegistry>();

  counter(name: string): Counter {
    let c = this.values.get(name);
    if (!c) this.values.set(name, (c = new CounterImpl()));
    return c as Counter;
  }

  gauge(name: string): Gauge {
    let g = this.values.get(name);
    if (!g) this.values.set(name, (g = new GaugeImpl()));
    return g as Gauge;
  }

  scope(name: string): MetricsRegistry {
    let s = this.children.get(name);
    if (!s) this.children.set(name, (s = new MetricsRegistry()));
    return s;
  }

  snapshot(): MetricsSnapshot {
    const out: MetricsSnapshot = {};
    for (const [k, v] of this.values) out[k] = v.value;
    for (const [k, child] of this.children) out[k] = child.snapshot();
    return out;
  }
}
