import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { MetricsSnapshot } from '../plugin/metrics.js';
import type { Pipeline } from '../runtime/pipeline.js';
import { CORE_VERSION } from '../registry/install-root.js';

/**
 * The node stats document, shaped like Logstash's `/_node/stats` (events, per-plugin counters,
 * queue, reloads, process). The Prometheus rendering of the same numbers is ./prometheus.ts.
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

/** Open and maximum file descriptors, as Logstash's process stats report them (Linux /proc). */
function fileDescriptors(): { open_file_descriptors?: number; max_file_descriptors?: number } {
  try {
    const open = readdirSync('/proc/self/fd').length - 1; // less the one readdir itself held
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return { open_file_descriptors: open, ...(m ? { max_file_descriptors: Number(m[1]) } : {}) };
  } catch {
    return {};
  }
}

/** One pipeline's section of `/_node/stats` (`pipelines.<id>`), with the numbers `pipeline status` reads. */
function pipelineStats(pipeline: Pipeline, reloads: ReloadStats): { events: MetricsSnapshot; section: Record<string, unknown>; size: number } {
  const snap = pipeline.metrics.snapshot();
  const events = (snap.events ?? {}) as MetricsSnapshot;
  const plugins = (snap.plugins ?? {}) as Record<string, Record<string, MetricsSnapshot>>;
  const list = (kind: string) =>
    Object.entries(plugins[kind] ?? {}).map(([id, m]) => {
      const { name: _n, ...rest } = m;
      void _n;
      return { id, ...rest };
    });
  const q = pipeline.queueStats;
  // Logstash's queue keys (events_count, queue_size_in_bytes) beside the ones `pipeline status` reads.
  const queue = { ...q, events_count: q.size, ...(q.bytes !== undefined ? { queue_size_in_bytes: q.bytes } : {}) };
  const v = pipeline.settingsView;
  return {
    events,
    size: q.size,
    section: {
      events,
      plugins: { inputs: list('inputs'), filters: [...list('filters'), ...list('correlates')], outputs: list('outputs') },
      queue,
      reloads,
      pipeline: { workers: v['pipeline.workers'], batch_size: v['pipeline.batch.size'], batch_delay: v['pipeline.batch.delay'] },
    },
  };
}

/**
 * The node's stats: every running pipeline under `pipelines.<id>`; the node-level `events`,
 * `reloads` and `queue` are sums over them, `id` and `pipeline` are the first pipeline's (one
 * pipeline: as before).
 */
export function nodeStats(sources: readonly { pipeline: Pipeline; reloads: ReloadStats }[]): Record<string, unknown> {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const pipelines: Record<string, unknown> = {};
  const events: Record<string, number> = {};
  const reloads = { successes: 0, failures: 0 };
  let queued = 0;
  for (const { pipeline, reloads: r } of sources) {
    const one = pipelineStats(pipeline, r);
    pipelines[pipeline.id] = one.section;
    for (const [k, n] of Object.entries(one.events)) if (typeof n === 'number') events[k] = (events[k] ?? 0) + n;
    reloads.successes += r.successes;
    reloads.failures += r.failures;
    queued += one.size;
  }
  const first = sources[0]?.pipeline;
  const v = first?.settingsView ?? {};
  return {
    host: hostname(),
    name: hostname(),
    version: CORE_VERSION,
    id: first?.id ?? 'main',
    status: 'green',
    pipeline: { workers: v['pipeline.workers'], batch_size: v['pipeline.batch.size'], batch_delay: v['pipeline.batch.delay'] },
    process: {
      pid: process.pid,
      ...fileDescriptors(),
      uptime_in_millis: Date.now() - startedAt,
      mem: { rss_in_bytes: mem.rss, heap_used_in_bytes: mem.heapUsed, heap_total_in_bytes: mem.heapTotal },
      cpu: { total_in_millis: Math.round((cpu.user + cpu.system) / 1000), percent: cpuPercent() },
    },
    events,
    pipelines,
    reloads,
    queue: { events_count: queued },
  };
}
