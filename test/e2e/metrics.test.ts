import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, logRecords, startPipeline, tempDir, waitFor } from './util.js';

/**
 * /metrics as Prometheus users expect it: a real pipeline (tcp → grok → sec → file) is fed over a
 * socket, /metrics is scraped over HTTP and the real `promtool check metrics` must accept the text;
 * /_node/stats keeps Logstash's shape.
 */
const RULES = `type=Single
ptype=RegExp
pattern=login failed for (\\S+)
desc=failed login $1
action=alert resource=$1 event=login_failed severity=minor

type=Single
ptype=RegExp
pattern=login ok for (\\S+)
desc=ok login $1
action=none
`;

const config = (port: number, rules: string, out: string) => `input { tcp { id => "tcp_in" host => "127.0.0.1" port => ${port} } }
filter { grok { id => "parse" match => { "message" => "login %{WORD:result} for %{USER:user}" } } }
correlate { sec { id => "auth" rules => ["${rules}"] } }
output { file { id => "to_file" path => "${out}" codec => json_lines } }`;

// The promtool of Debian's prometheus package (scripts/setup-debian.sh); missing means the test fails.
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}); scripts/setup-debian.sh installs it`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The value of the one sample `name{labels}` (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[3]);
  }
  return undefined;
}

describe('/metrics by the Prometheus conventions', () => {
  it('a running tcp → grok → sec → file pipeline: promtool accepts /metrics, families and labels as documented, /_node/stats in Logstash shape', async () => {
    const t = tempDir();
    try {
      const port = await freePort();
      const rules = join(t.dir, 'auth.sec');
      writeFileSync(rules, RULES);
      const out = join(t.dir, 'out.jsonl');
      const conf = join(t.dir, 'p.conf');
      writeFileSync(conf, config(port, rules, out));
      const p = startPipeline(['-f', conf, '--path.data', join(t.dir, 'data'), '--api.http.port', '0']);
      try {
        await waitFor(() => logRecords(p.stderr()).some((r) => r.msg === 'monitoring API listening') && p.stderr().includes('pipeline started'), 'start');
        const base = `http://${String(logRecords(p.stderr()).find((r) => r.msg === 'monitoring API listening')!.address)}`;
        const lines = ['login failed for bob', 'login failed for bob', 'login ok for alice', 'login failed for carol', 'no match here'];
        await new Promise<void>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => s.end(lines.join('\n') + '\n'));
          s.on('error', reject).on('close', () => resolve());
        });
        // 5 lines in, 3 alerts made by the rules: 8 events filed.
        await waitFor(() => {
          try {
            return readFileSync(out, 'utf8').split('\n').filter(Boolean).length === 8;
          } catch {
            return false;
          }
        }, 'every event filed');

        const res = await fetch(`${base}/metrics`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        const text = await res.text();
        const check = promtool(text);
        assert.equal(check.status, 0, `promtool check metrics:\n${check.output}`);

        // Every family has HELP and TYPE, each once, and a family's samples are contiguous.
        const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);
        assert.equal(new Set(families).size, families.length, 'one TYPE line per family');
        for (const f of families) assert.match(text, new RegExp(`^# HELP ${f} \\S`, 'm'), `HELP for ${f}`);
        for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (counter)$/gm)) assert.match(name!, /_total$/, `${name} is a ${type}`);
        assert.doesNotMatch(text, /^pipeline_plugin_rules_/m, 'no metric name built from a rule');

        assert.equal(sample(text, 'pipeline_events_in_total', { pipeline: 'main' }), 5);
        assert.equal(sample(text, 'pipeline_events_out_total', { pipeline: 'main' }), 8);
        assert.equal(sample(text, 'pipeline_plugin_events_out_total', { pipeline: 'main', kind: 'input', plugin_id: 'tcp_in' }), 5);
        assert.equal(sample(text, 'pipeline_plugin_events_in_total', { pipeline: 'main', kind: 'output', plugin_id: 'to_file' }), 8);
        assert.equal(sample(text, 'pipeline_plugin_matches_total', { pipeline: 'main', kind: 'filter', plugin_id: 'parse' }), 4);
        assert.equal(sample(text, 'pipeline_plugin_failures_total', { pipeline: 'main', kind: 'filter', plugin_id: 'parse' }), 1);
        assert.equal(sample(text, 'pipeline_plugin_rule_matches_total', { pipeline: 'main', kind: 'correlate', plugin_id: 'auth', rule: 'auth.sec:1' }), 3);
        assert.equal(sample(text, 'pipeline_plugin_rule_matches_total', { pipeline: 'main', kind: 'correlate', plugin_id: 'auth', rule: 'auth.sec:7' }), 1);
        assert.equal(sample(text, 'pipeline_plugin_connections_total', { pipeline: 'main', kind: 'input', plugin_id: 'tcp_in' }), 1);
        assert.match(text, /^# TYPE pipeline_plugin_connections_open gauge$/m);
        // the runaway-regex counts of conditions and SEC patterns (none ran away here)
        assert.equal(sample(text, 'pipeline_regex_runaways_total', { kind: 'SEC pattern' }), 0);
        assert.match(text, /^# TYPE pipeline_plugin_events_duration_seconds_total counter$/m);
        assert.equal(sample(text, 'pipeline_queue_capacity_events', { pipeline: 'main', type: 'memory' })! > 0, true);
        assert.equal(sample(text, 'pipeline_reloads_failures_total', { pipeline: 'main' }), 0);
        assert.ok(sample(text, 'process_resident_memory_bytes', {})! > 0);
        assert.ok(sample(text, 'nodejs_heap_size_used_bytes', {})! > 0);
        assert.ok(sample(text, 'process_cpu_seconds_total', {})! > 0);
        assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);

        // /_node/stats: Logstash's document, with the same numbers.
        const stats = (await (await fetch(`${base}/_node/stats`)).json()) as Record<string, any>;
        for (const k of ['host', 'version', 'id', 'status', 'pipeline', 'process', 'events', 'pipelines', 'reloads', 'queue']) assert.ok(k in stats, `/_node/stats has ${k}`);
        assert.deepEqual([stats.events.in, stats.events.filtered, stats.events.out], [5, 5, 8]);
        assert.ok(stats.process.open_file_descriptors > 0 && stats.process.max_file_descriptors > 0);
        const main = stats.pipelines.main;
        assert.deepEqual(Object.keys(main.plugins).sort(), ['filters', 'inputs', 'outputs']);
        assert.equal(main.plugins.inputs.find((x: any) => x.id === 'tcp_in').events.out, 5);
        const auth = main.plugins.filters.find((x: any) => x.id === 'auth');
        assert.deepEqual(auth.rule_matches, { 'auth.sec:1': 3, 'auth.sec:7': 1 });
        assert.equal(main.queue.type, 'memory');
        assert.equal(main.queue.events_count, 0);
        assert.deepEqual(main.reloads, { successes: 0, failures: 0 });
        // /_node/stats/<types> and /_node/stats/pipelines/<id>, as Logstash serves them.
        const some = (await (await fetch(`${base}/_node/stats/events,reloads`)).json()) as Record<string, any>;
        assert.deepEqual(Object.keys(some).filter((k) => !['host', 'name', 'version', 'id', 'status', 'pipeline'].includes(k)).sort(), ['events', 'reloads']);
        const one = (await (await fetch(`${base}/_node/stats/pipelines/main`)).json()) as Record<string, any>;
        assert.deepEqual(Object.keys(one.pipelines), ['main']);
        assert.equal((await fetch(`${base}/_node/stats/pipelines/nope`)).status, 404);
        assert.equal((await fetch(`${base}/_node/stats/jvmx`)).status, 404);
      } finally {
        p.child.kill('SIGTERM');
        await p.exited;
      }
    } finally {
      t.cleanup();
    }
  });
});
