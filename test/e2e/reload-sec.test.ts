import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { logRecords, startPipeline, tempDir, waitFor } from './util.js';

const RULES = `type=SingleWithThreshold
ptype=RegExp
pattern=fail (\\S+)
desc=three failures for $1
action=alert resource=$1 event="three failures for $1" severity=warning
window=600
thresh=3
`;

const config = (rules: string, tag: string) => `input { stdin { id => "in" } }
correlate { sec { id => "rules" rules => ["${rules}"] } }
output {
  if "alert" in [tags] { stdout { id => "alerts" codec => line { format => "${tag} %{[alert][event]}" } } }
  else { stdout { id => "events" codec => line { format => "E %{message}" } } }
}`;

describe('reload keeps correlation state', () => {
  it('a threshold window survives a reload of unrelated parts, and pipeline.yml settings apply', async () => {
    const t = tempDir();
    try {
      const rules = join(t.dir, 'r.sec');
      writeFileSync(rules, RULES);
      const conf = join(t.dir, 'p.conf');
      writeFileSync(conf, config(rules, 'A1'));
      const settingsDir = join(t.dir, 'settings');
      mkdirSync(settingsDir);
      writeFileSync(join(settingsDir, 'pipeline.yml'), 'pipeline:\n  id: homelab\nconfig.reload.interval: 0.2\n');
      const p = startPipeline(['-f', conf, '-r', '--path.settings', settingsDir, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], { stdout: 'pipe' });
      let out = '';
      p.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      assert.equal(logRecords(p.stderr()).find((r) => r.msg === 'pipeline started')!.pipeline, 'homelab', 'pipeline.id from pipeline.yml');
      p.child.stdin!.write('fail bob\nfail bob\n');
      await waitFor(() => out.split('\n').filter((l) => l === 'E fail bob').length === 2, 'two events through');
      writeFileSync(conf, config(rules, 'A2'));
      await waitFor(() => logRecords(p.stderr()).some((r) => r.msg === 'reloaded'), 'the reload');
      const reloaded = logRecords(p.stderr()).find((r) => r.msg === 'reloaded')!;
      assert.equal(reloaded.kept, 3, 'stdin, sec and the events output were kept; only the alerts output changed');
      p.child.stdin!.write('fail bob\n');
      await waitFor(() => out.includes('A2 three failures for bob'), 'the threshold to fire with the counts from before the reload');
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
      assert.doesNotMatch(out, /A1 /);
    } finally {
      t.cleanup();
    }
  });
});

describe('reload picks up changed rule files', () => {
  it('a changed .sec file recreates the correlation stage; a broken one is refused', async () => {
    const t = tempDir();
    try {
      const rules = join(t.dir, 'r.sec');
      writeFileSync(rules, RULES);
      const conf = join(t.dir, 'p.conf');
      writeFileSync(conf, config(rules, 'A'));
      const p = startPipeline(['-f', conf, '-r', '--config.reload.interval', '0.2', '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], { stdout: 'pipe' });
      let out = '';
      p.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      writeFileSync(rules, RULES.replace('thresh=3', 'thresh=1').replaceAll('three failures', 'one failure'));
      await waitFor(() => logRecords(p.stderr()).some((r) => r.msg === 'reloaded'), 'the reload');
      p.child.stdin!.write('fail eve\n');
      await waitFor(() => out.includes('A one failure for eve'), 'the new rule', 20_000).catch((e: Error) => {
        throw new Error(`${e.message}\nstdout: ${out}\nstderr: ${p.stderr()}`);
      });
      writeFileSync(rules, 'type=Nonsense\n');
      await waitFor(() => logRecords(p.stderr()).some((r) => String(r.msg).startsWith('configuration refused') && String(r.msg).includes('r.sec')), 'the refusal naming the rule file');
      p.child.stdin!.write('fail mallory\n');
      await waitFor(() => out.includes('A one failure for mallory'), 'the running rules still work');
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
    } finally {
      t.cleanup();
    }
  });
});

describe('SIGUSR1', () => {
  it('writes a dump of the live SEC operations under path.data/dumps', async () => {
    const { existsSync, readFileSync } = await import('node:fs');
    const t = tempDir();
    try {
      const rules = join(t.dir, 'r.sec');
      writeFileSync(rules, RULES);
      const conf = join(t.dir, 'p.conf');
      writeFileSync(conf, config(rules, 'A'));
      const data = join(t.dir, 'data');
      const p = startPipeline(['-f', conf, '--path.data', data, '--api.enabled', 'false'], { stdout: 'pipe' });
      let out = '';
      p.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      await waitFor(() => p.stderr().includes('pipeline started'), 'start');
      p.child.stdin!.write('fail carol\n');
      await waitFor(() => out.includes('E fail carol'), 'the event through');
      p.child.kill('SIGUSR1');
      const dump = join(data, 'dumps', 'rules.dump');
      await waitFor(() => existsSync(dump), 'the dump file');
      assert.match(readFileSync(dump, 'utf8'), /three failures for carol/);
      p.child.stdin!.end();
      assert.equal(await p.exited, 0, p.stderr());
    } finally {
      t.cleanup();
    }
  });
});
