import assert from 'node:assert/strict';
import { it } from 'node:test';
import { familyOf } from '../src/monitoring/prometheus.js';
import { MetricsRegistry } from '../src/plugin/metrics.js';

it('metrics: labelled series share a family; the same labels give the same counter; snapshot nests by label value', () => {
  const r = new MetricsRegistry();
  const plugin = r.scope('plugins').scope('correlates').scope('auth');
  const a = plugin.counter('rule_matches', { rule: 'ssh.sec:1' });
  a.inc();
  plugin.counter('rule_matches', { rule: 'ssh.sec:1' }).inc(2);
  plugin.counter('rule_matches', { rule: 'ssh.sec:9' }).inc();
  plugin.gauge('contexts').set(4);
  assert.equal(a.value, 3);
  assert.deepEqual(r.snapshot(), { plugins: { correlates: { auth: { rule_matches: { 'ssh.sec:1': 3, 'ssh.sec:9': 1 }, contexts: 4 } } } });
  assert.throws(() => plugin.gauge('rule_matches'), /is a counter, asked for as a gauge/);
});

it('metrics: the naming rule (scopes → names, _total on counters, millis → seconds, core labels first, shadowing renamed)', () => {
  const r = new MetricsRegistry();
  r.scope('events').counter('in').inc(5);
  const p = r.scope('plugins').scope('outputs').scope('sink');
  p.scope('events').counter('duration_in_millis').inc(1500);
  p.counter('connections_total').inc();
  p.gauge('files_open').set(2);
  p.counter('hits', { rule: 'a.sec:1', kind: 'x' }).inc();
  const got = [...r.samples()].map((s) => familyOf('main', s));
  assert.deepEqual(got, [
    { name: 'pipeline_events_in_total', labels: { pipeline: 'main' }, value: 5, source: undefined },
    { name: 'pipeline_plugin_connections_total', labels: { pipeline: 'main', kind: 'output', plugin_id: 'sink' }, value: 1, source: 'output sink' },
    { name: 'pipeline_plugin_files_open', labels: { pipeline: 'main', kind: 'output', plugin_id: 'sink' }, value: 2, source: 'output sink' },
    { name: 'pipeline_plugin_hits_total', labels: { pipeline: 'main', kind: 'output', plugin_id: 'sink', rule: 'a.sec:1', exported_kind: 'x' }, value: 1, source: 'output sink' },
    { name: 'pipeline_plugin_events_duration_seconds_total', labels: { pipeline: 'main', kind: 'output', plugin_id: 'sink' }, value: 1.5, source: 'output sink' },
  ]);
});
