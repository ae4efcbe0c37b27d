import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSettingsFile, SettingsError } from '../src/runtime/settings-file.js';
import { cli, tempDir } from './helpers.js';

describe('settings files', () => {
  it('a settings file is read as YAML, nested or dotted, with ${VAR} and ${VAR:default}', () => {
    const r = readSettingsFile('real.yml', '# a comment\npipeline:\n  batch:\n    size: 50\nqueue.type: persisted\npath.data: ${DATA_DIR}\npipeline.id: ${NO_SUCH_VAR:fallback}\n', { DATA_DIR: '/srv/data' });
    assert.deepEqual(r.settings, { 'pipeline.batch.size': 50, 'queue.type': 'persisted', 'path.data': '/srv/data', 'pipeline.id': 'fallback' });
    assert.deepEqual(r.ignored, []);
  });

  it('an unknown key is an error with the file, the line and the closest name', () => {
    assert.throws(
      () => readSettingsFile('ls.yml', 'pipeline.id: x\npipline.workers: 2\n'),
      (e: SettingsError) => e instanceof SettingsError && e.line === 2 && /unknown setting 'pipline.workers'/.test(e.message) && /did you mean 'pipeline.workers'/.test(e.message),
    );
    assert.throws(() => readSettingsFile('ls.yml', 'pipeline:\n  wrokers: 2\n'), (e: SettingsError) => e.line === 2 && /pipeline.wrokers/.test(e.message));
  });

  it('a value of the wrong type is an error naming the setting', () => {
    assert.throws(() => readSettingsFile('ls.yml', 'pipeline.workers: two\n'), (e: SettingsError) => e.line === 1 && /pipeline.workers must be a number/.test(e.message));
    assert.throws(() => readSettingsFile('ls.yml', 'queue.type: persistd\n'), /did you mean 'persisted'/);
    assert.throws(() => readSettingsFile('ls.yml', 'api.enabled: yes please\n'), /api.enabled must be true or false/);
    assert.throws(() => readSettingsFile('ls.yml', 'path.data: ${UNSET_FOR_TEST}\n', {}), /environment variable UNSET_FOR_TEST is not set/);
  });

  it("Logstash's own settings that mean nothing here are accepted and listed", () => {
    const r = readSettingsFile('logstash.yml', 'node.name: ls1\nxpack.monitoring.enabled: false\npipeline.workers: 2\ndead_letter_queue.enable: true\n');
    assert.deepEqual(r.settings, { 'pipeline.workers': 2 });
    assert.deepEqual(r.ignored, ['node.name', 'xpack.monitoring.enabled', 'dead_letter_queue.enable']);
  });

  it('--path.settings: a missing directory, a typo in logstash.yml are refused with exit 1; one or several pipelines in pipelines.yml run', () => {
    const t = tempDir();
    try {
      const base = ['start', '--path.data', t.dir, '-e', 'input { generator { count => 1 } } output { null {} }'];
      let r = cli([...base, '--path.settings', join(t.dir, 'nope')]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /names no directory/);
      writeFileSync(join(t.dir, 'logstash.yml'), 'pipline.workers: 2\n');
      r = cli([...base, '--path.settings', t.dir]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /logstash\.yml:1: unknown setting 'pipline.workers'\n  did you mean 'pipeline.workers'\?/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
      writeFileSync(join(t.dir, 'logstash.yml'), 'node.name: ls1\n');
      r = cli([...base, '--path.settings', t.dir, '--log.format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /Logstash settings that mean nothing here were ignored: node.name/);
      // several pipelines run side by side, each under its own id
      writeFileSync(join(t.dir, 'pipelines.yml'), '- pipeline.id: a\n  config.string: "input { generator { count => 1 } } output { null {} }"\n- pipeline.id: b\n  config.string: "input { generator { count => 1 } } output { null {} }"\n');
      r = cli(['start', '--path.data', t.dir, '--path.settings', t.dir, '--log.format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /"pipeline":"a"/);
      assert.match(r.stderr, /"pipeline":"b"/);
      writeFileSync(join(t.dir, 'pipelines.yml'), '- pipeline.id: only\n  config.string: "input { generator { count => 1 } } output { null {} }"\n');
      r = cli(['start', '--path.data', t.dir, '--path.settings', t.dir, '--log.format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /"pipeline":"only"/);
    } finally {
      t.cleanup();
    }
  });

  it('--path.settings applies a pipeline.yml that sets something', () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, 'pipeline.yml'), 'pipeline.id: from-settings\n');
      const r = cli(['start', '--path.settings', t.dir, '--path.data', t.dir, '--log.format', 'json', '-e', 'input { generator { count => 1 } } output { null {} }']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /"pipeline":"from-settings"|from-settings/);
    } finally {
      t.cleanup();
    }
  });
});
