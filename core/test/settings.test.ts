import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSettingsFile } from '../src/runtime/settings.js';
import { cli, tempDir } from './helpers.js';

describe('settings files', () => {
  it('a file of comments sets nothing; one that sets values is read as YAML, nested or dotted', () => {
    const t = tempDir();
    try {
      const comments = join(t.dir, 'comments.yml');
      writeFileSync(comments, '# pipeline.workers: 2\n\n   # queue.type: persisted\n');
      assert.deepEqual(loadSettingsFile(comments), {});
      const real = join(t.dir, 'real.yml');
      writeFileSync(real, '# a comment\npipeline:\n  batch:\n    size: 50\nqueue.type: persisted\n');
      assert.deepEqual(loadSettingsFile(real), { 'pipeline.batch.size': 50, 'queue.type': 'persisted' });
      assert.deepEqual(loadSettingsFile(join(t.dir, 'missing.yml')), {});
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
