import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { atomicOracle } from '../sec-oracle.js';
import { FIXTURES, REPO_ROOT, outputOf, run, tempDir } from './helpers.js';

// pipelines/rules/snort.sec and openvpn.sec use only SEC 2.9 features, so the real `sec` is
// their oracle: each scripted sample (a vclock-run scenario: log lines plus clock directives)
// must make the real sec write exactly the recorded alerts. Needs the Debian package `sec`.
// The oracle runs from a copy whose clock is written atomically (see ../sec-oracle.ts).

describe('SEC rule files for Snort and OpenVPN, against the real sec', () => {
  for (const name of ['snort', 'openvpn']) {
    const rules = join(REPO_ROOT, 'pipelines', 'rules', `${name}.sec`);
    const dir = join(FIXTURES, `sec-${name}`);

    it(`${name}.sec loads in sec without errors`, () => {
      const r = run('sec', [`--conf=${rules}`, '--testonly', '--log=-', '--debug=6'], REPO_ROOT);
      assert.equal(r.status, 0, outputOf(r));
      assert.match(r.stdout + r.stderr, new RegExp(`\\d+ rules loaded from ${rules.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.doesNotMatch(r.stdout + r.stderr, /invalid|error/i);
    });

    it(`${name}.sec raises the recorded alerts on its scripted sample`, () => {
      const t = tempDir(`pipeline-sec-${name}-`);
      try {
        mkdirSync(join(t.dir, 'data'));
        const r = run(process.execPath, [atomicOracle(t.dir), '--rules', rules, '--scenario', join(dir, 'scenario.txt'), '--workdir', t.dir], t.dir);
        assert.equal(r.status, 0, outputOf(r));
        const got = readFileSync(join(t.dir, 'data', 'sec-alerts.log'), 'utf8');
        assert.equal(got, readFileSync(join(dir, 'expected-sec-alerts.log'), 'utf8'));
      } finally {
        t.cleanup();
      }
    });
  }
});
