import type { Counter as PromCounter, Gauge as PromGauge, Registry } from 'prom-client';
import type { MetricSample, MetricType } from '../plugin/metrics.js';
import type { Pipeline } from '../runtime/pipeline.js';
import { CORE_VERSION } from '../registry/install-root.js';
import type { ReloadStats } from './stats.js';
import { regexWatchdogs } from '../regex/bounded.js';

/**
 * /metrics: the metrics registry rendered through prom-client, plus prom-client's default
 * process_* / nodejs_* metrics. Plugins keep counting into plain numbers (core/src/plugin/metrics.ts);
 * this module turns them into families at scrape time, so the hot path never touches prom-client.
 *
 * The naming rule, in one place (`familyOf`). A metric's path is its scopes then its name:
 * - `events/<n>` (pipeline totals)          → `pipeline_events_<n>`, labels {pipeline}
 * - `plugins/<kind>s/<id>/<p…>/<n>`         → `pipeline_plugin_<p…>_<n>`, labels {pipeline, kind, plugin_id}
 * - any other `<p…>/<n>`                    → `pipeline_<p…>_<n>`, labels {pipeline}
 * then: characters outside [a-zA-Z0-9_] become "_"; a name ending in `_in_millis` ends in `_seconds`
 * and its value is divided by 1000 (Prometheus' base unit); a counter ends in `_total` (added
 * unless the name already has it). The metric's own labels (e.g. `rule`) follow the core ones; one
 * that would shadow a core label is renamed `exported_<name>`, as Prometheus does on scrape.
 */

type Prom = typeof import('prom-client');

interface FamilyDraft {
  type: MetricType;
  help: string;
  labelNames: Set<string>;
  samples: Array<{ labels: Record<string, string>; value: number }>;
  /** Plugin ids and kinds contributing, for a generated HELP line. */
  from: Set<string>;
}

const CORE_LABELS = new Set(['pipeline', 'kind', 'plugin_id']);

const HELP: Record<string, string> = {
  pipeline_regex_runaways_total: 'Matches of =~ conditions or SEC patterns that ran out of time (each counted as no match).',
  pipeline_events_in_total: 'Events that entered the pipeline queue from its inputs.',
  pipeline_events_filtered_total: 'Events that went through the filter (and correlate) stage.',
  pipeline_events_out_total: 'Events handed to the outputs.',
  pipeline_plugin_events_in_total: 'Events a filter or output plugin received.',
  pipeline_plugin_events_out_total: 'Events an input produced, or a filter or output passed on.',
  pipeline_plugin_events_duration_seconds_total: 'Time a plugin spent on its events, in seconds.',
  pipeline_queue_events: 'Events in the pipeline queue now.',
  pipeline_queue_peak_events: 'Most events the pipeline queue has held since start.',
  pipeline_queue_capacity_events: 'Events the pipeline queue holds before inputs are paused (back-pressure).',
  pipeline_queue_bytes: 'Bytes the persisted queue uses on disk.',
  pipeline_reloads_successes_total: 'Configuration reloads that were applied.',
  pipeline_reloads_failures_total: 'Configuration reloads refused (the running configuration kept going).',
  pipeline_reload_last_success_timestamp_seconds: 'Unix time of the last applied reload.',
  pipeline_reload_last_failure_timestamp_seconds: 'Unix time of the last refused reload.',
  pipeline_build_info: 'Always 1; the labels say which Pipeline and Node.js versions run.',
};

const clean = (s: string) => s.replace(/[^a-zA-Z0-9_]+/g, '_').replace(/^_+|_+$/g, '');

/** The naming rule: a registry sample → family name, core labels, and the value in base units. */
export function familyOf(pipelineId: string, s: MetricSample): { name: string; labels: Record<string, string>; value: number; source?: string } {
  const labels: Record<string, string> = { pipeline: pipelineId };
  let rest: readonly string[];
  let base: string;
  let source: string | undefined;
  if (s.path[0] === 'events' && s.path.length > 1) {
    base = 'pipeline_events';
    rest = s.path.slice(1);
  } else if (s.path[0] === 'plugins' && s.path.length >= 4) {
    base = 'pipeline_plugin';
    labels.kind = s.path[1]!.replace(/s$/, '');
    labels.plugin_id = s.path[2]!;
    source = `${labels.kind} ${labels.plugin_id}`;
    rest = s.path.slice(3);
  } else {
    base = 'pipeline';
    rest = s.path;
  }
  let name = [base, ...rest.map(clean)].filter((p) => p !== '').join('_');
  let value = s.value;
  if (name.endsWith('_in_millis')) {
    name = name.slice(0, -'_in_millis'.length) + '_seconds';
    value /= 1000;
  }
  if (s.type === 'counter' && !name.endsWith('_total')) name += '_total';
  for (const [k, v] of Object.entries(s.labels)) {
    const n = clean(k) || 'label';
    labels[CORE_LABELS.has(n) || n.startsWith('__') ? `exported_${n.replace(/^_+/, '')}` : /^[0-9]/.test(n) ? `_${n}` : n] = String(v);
  }
  return { name, labels, value, source };
}

export interface PrometheusSource {
  pipeline: Pipeline;
  reloads: ReloadStats;
}

/**
 * One per monitoring API. prom-client is loaded by the first scrape: loading it and its default
 * metrics takes about 100 ms of the main thread, which start-up (exec to listening input) should not
 * pay for a Prometheus that may never come. Its default metrics are registered on a private registry,
 * not the global one, so an embedding application's own prom-client registry is left alone.
 */
export class PrometheusExporter {
  private loaded?: Promise<{ prom: Prom; registry: Registry }>;
  private readonly families = new Map<string, { type: MetricType; labelNames: string; metric: PromCounter<string> | PromGauge<string> }>();

  private get ready(): Promise<{ prom: Prom; registry: Registry }> {
    return (this.loaded ??= import('prom-client').then((prom) => {
      const registry = new prom.Registry();
      prom.collectDefaultMetrics({ register: registry });
      // prom-client types these sums as gauges named *_total, which `promtool check metrics` rejects
      // (only counters end in _total); the per-type families they sum (nodejs_active_handles{type}…) stay.
      for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(n);
      return { prom, registry };
    }));
  }

  get contentType(): Promise<string> {
    return this.ready.then((r) => r.registry.contentType);
  }

  async render(sources: readonly PrometheusSource[]): Promise<string> {
    const { prom, registry } = await this.ready;
    this.sync(prom, registry, this.collect(sources));
    return registry.metrics();
  }

  private collect(sources: readonly PrometheusSource[]): Map<string, FamilyDraft> {
    const out = new Map<string, FamilyDraft>();
    const add = (name: string, type: MetricType, labels: Record<string, string>, value: number, source?: string) => {
      if (!Number.isFinite(value) || (type === 'counter' && value < 0)) return;
      let f = out.get(name);
      // Two metrics whose names meet after the rule (a gauge "x_total" beside a counter "x") would
      // make one family with two types, which Prometheus rejects: the later one takes its type as a suffix.
      if (f && f.type !== type) return add(`${name}_${type}`, type, labels, value, source);
      if (!f) out.set(name, (f = { type, help: HELP[name] ?? '', labelNames: new Set(), samples: [], from: new Set() }));
      for (const k of Object.keys(labels)) f.labelNames.add(k);
      f.samples.push({ labels, value });
      if (source) f.from.add(source);
    };
    add('pipeline_build_info', 'gauge', { version: CORE_VERSION, nodejs_version: process.version }, 1);
    for (const w of regexWatchdogs()) add('pipeline_regex_runaways_total', 'counter', { kind: w.kind }, w.runaways);
    for (const { pipeline, reloads } of sources) {
      const id = pipeline.id;
      for (const s of pipeline.metrics.samples()) {
        const f = familyOf(id, s);
        add(f.name, s.type, f.labels, f.value, f.source);
      }
      const q = pipeline.queueStats;
      const ql = { pipeline: id, type: q.type };
      add('pipeline_queue_events', 'gauge', ql, q.size);
      add('pipeline_queue_peak_events', 'gauge', ql, q.peak);
      add('pipeline_queue_capacity_events', 'gauge', ql, q.capacity);
      if (q.bytes !== undefined) add('pipeline_queue_bytes', 'gauge', ql, q.bytes);
      add('pipeline_reloads_successes_total', 'counter', { pipeline: id }, reloads.successes);
      add('pipeline_reloads_failures_total', 'counter', { pipeline: id }, reloads.failures);
      if (reloads.last_success_timestamp) add('pipeline_reload_last_success_timestamp_seconds', 'gauge', { pipeline: id }, Date.parse(reloads.last_success_timestamp) / 1000);
      if (reloads.last_failure_timestamp) add('pipeline_reload_last_failure_timestamp_seconds', 'gauge', { pipeline: id }, Date.parse(reloads.last_failure_timestamp) / 1000);
    }
    for (const [name, f] of out) {
      if (f.help) continue;
      // Plugin metrics carry no description of their own: say where the family comes from.
      const from = [...f.from];
      const who = from.length === 0 ? '' : ` Reported by ${from.slice(0, 4).join(', ')}${from.length > 4 ? ` and ${from.length - 4} more` : ''}.`;
      const what = name.replace(/^pipeline_(plugin_)?/, '').replace(/_total$/, '');
      f.help = `${f.type === 'counter' ? 'Count' : 'Current value'} of "${what}" per ${name.startsWith('pipeline_plugin_') ? 'plugin instance' : 'pipeline'}.${who}`;
    }
    return out;
  }

  /** Makes the prom-client registry hold exactly these families with these values. */
  private sync(prom: Prom, registry: Registry, drafts: Map<string, FamilyDraft>): void {
    for (const [name, d] of drafts) {
      const labelNames = [...d.labelNames].sort();
      const key = labelNames.join(',');
      let f = this.families.get(name);
      if (f && (f.type !== d.type || f.labelNames !== key)) {
        registry.removeSingleMetric(name);
        f = undefined;
      }
      if (!f) {
        const conf = { name, help: d.help, labelNames, registers: [registry] };
        f = { type: d.type, labelNames: key, metric: d.type === 'counter' ? new prom.Counter(conf) : new prom.Gauge(conf) };
        this.families.set(name, f);
      }
      // Plugin ids come and go with reloads: the family is rebuilt from the registry on every scrape.
      f.metric.reset();
      if (d.type === 'counter') for (const s of d.samples) (f.metric as PromCounter<string>).inc(s.labels, s.value);
      else for (const s of d.samples) (f.metric as PromGauge<string>).set(s.labels, s.value);
    }
    for (const name of [...this.families.keys()])
      if (!drafts.has(name)) {
        registry.removeSingleMetric(name);
        this.families.delete(name);
      }
  }
}

