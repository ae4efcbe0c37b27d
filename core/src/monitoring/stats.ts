import { hostname } from 'node:os';
import type { MetricsSnapshot } from '../plugin/metrics.js';
import type { Pipeline } from '../runtime/pipeline.js';
import { CORE_VERSION } from '../registry/install-root.js';

/**
 * The node stats document, shaped like Logstash's `/_node/stats` (events, per-plugin counters,
 * queue, reloads, process), and its Prometheus text rendering.
 */
export interface ReloadStats {
  successes: number;
  failures: number;
  last_error?: string;
  last_success_timestamp?: string;
  last_failure_timestamp?: string;
}

const startedAt = Date.now();
let lastCpu = process.cpuUsage();
let lastCpuAt = Date.now();

function cpuPercent(): number {
  const now = Date.now();
  const cpu = process.cpuUsage();
  const used = cpu.user - lastCpu.user + (cpu.system - lastCpu.system);
  const elapsed = (now - lastCpuAt) * 1000;
  lastCpu = cpu;
  lastCpuAt = now;
  return elapsed > 0 ? Math.round((used / elapsed) * 1000) / 10 : 0;
}

export function nodeStats(pipeline: Pipeline, reloads: ReloadStats): Record<string, unknown> {
  const snap = pipeline.metrics.snapshot();
  const events = (snap.events ?? {}) as MetricsSnapshot;
  const plugins = (snap.plugins ?? {}) as Record<string, Record<string, MetricsSnapshot>>;
  const list = (kind: string) =>
    Object.entries(plugins[kind] ?? {}).map(([id, m]) => {
      const { name: _n, ...rest } = m;
      void _n;
      return { id, ...rest };
    });
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    host: hostname(),
    version: CORE_VERSION,
    id: pipeline.id,
    status: 'green',
    pipeline: { workers: pipeline.settingsView['pipeline.workers'], batch_size: pipeline.settingsView['pipeline.batch.size'], batch_delay: pipeline.settingsView['pipeline.batch.delay'] },
    process: {
      pid: process.pid,
      uptime_in_millis: Date.now() - startedAt,
      mem: { rss_in_bytes: mem.rss, heap_used_in_bytes: mem.heapUsed, heap_total_in_bytes: mem.heapTotal },
      cpu: { total_in_millis: Math.round((cpu.user + cpu.system) / 1000), percent: cpuPercent() },
    },
    events,
    pipelines: {
      [pipeline.id]: {
        events,
        plugins: { inputs: list('inputs'), filters: [...list('filters'), ...list('correlates')], outputs: list('outputs') },
        queue: pipeline.queueStats,
        reloads,
      },
    },
  };
}

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_]/g, '_');
const label = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus text format (version 0.0.4) of the same numbers. */
export function prometheus(pipeline: Pipeline, reloads: ReloadStats): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  const emit = (name: string, labels: Record<string, string>, value: number, type: 'counter' | 'gauge' = 'gauge') => {
    const metric = `pipeline_${sanitize(name)}`;
    if (!seen.has(metric)) {
      seen.add(metric);
      lines.push(`# TYPE ${metric} ${type}`);
    }
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${label(v)}"`)
      .join(',');
    lines.push(`${metric}{${l}} ${Number.isFinite(value) ? value : 0}`);
  };
  const snap = pipeline.metrics.snapshot();
  const base = { pipeline: pipeline.id };
  const walk = (prefix: string, m: MetricsSnapshot, labels: Record<string, string>) => {
    for (const [k, v] of Object.entries(m)) {
      if (typeof v === 'number') emit(`${prefix}${k}`, labels, v, /(_total|^in$|^out$|filtered|count)/.test(k) ? 'counter' : 'gauge');
      else walk(`${prefix}${k}_`, v, labels);
    }
  };
  walk('events_', (snap.events ?? {}) as MetricsSnapshot, base);
  const plugins = (snap.plugins ?? {}) as Record<string, Record<string, MetricsSnapshot>>;
  for (const [kinds, byId] of Object.entries(plugins))
    for (const [id, m] of Object.entries(byId)) {
      const { name: _n, ...rest } = m;
      void _n;
      walk('plugin_', rest, { ...base, kind: kinds.replace(/s$/, ''), id });
    }
  const q = pipeline.queueStats;
  emit('queue_events', { ...base, type: q.type }, q.size);
  emit('queue_capacity_events', { ...base, type: q.type }, q.capacity);
  if (q.bytes !== undefined) emit('queue_bytes', { ...base, type: q.type }, q.bytes);
  emit('reloads_successes_total', base, reloads.successes, 'counter');
  emit('reloads_failures_total', base, reloads.failures, 'counter');
  const mem = process.memoryUsage();
  emit('process_resident_memory_bytes', {}, mem.rss);
  emit('process_heap_used_bytes', {}, mem.heapUsed);
  const cpu = process.cpuUsage();
  emit('process_cpu_seconds_total', {}, (cpu.user + cpu.system) / 1e6, 'counter');
  return lines.join('\n') + '\n';
}
