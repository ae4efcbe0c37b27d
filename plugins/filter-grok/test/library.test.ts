import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyCaptures, builtinPatterns, compileGrok } from '../src/index.js';
import { SAMPLES } from './samples.js';

const lib = new Map(builtinPatterns());
const opts = { namedCapturesOnly: true, target: undefined, overwrite: new Set<string>() };

test("the legacy library has Logstash's 317 names plus TIMESTAMP_CN and HAPROXYERROR, each with samples", () => {
  // the two extra names are Pipeline's; no Logstash name refers to them
  assert.equal(lib.size, 319);
  assert.ok(lib.has('TIMESTAMP_CN') && lib.has('HAPROXYERROR'));
  const missing = [...lib.keys()].filter((n) => !(n in SAMPLES));
  assert.deepEqual(missing, []);
});

for (const name of [...lib.keys()].sort()) {
  test(`library ${name}: positive and negative samples`, () => {
    const s = SAMPLES[name]!;
    const g = compileGrok(`%{${name}}`, lib, opts);
    const m = g.regex.exec(s.pos);
    assert.ok(m, `${name} should match ${JSON.stringify(s.pos)}`);
    assert.equal(m[0], s.whole ?? s.pos, `${name} should match the whole sample`);
    if (s.neg === null) {
      // names that match any text: check they match the empty string too (nothing to refuse)
      assert.ok(compileGrok(`^%{${name}}`, lib, opts).regex.test(''), `${name} matches everything`);
    } else {
      assert.equal(g.regex.exec(s.neg), null, `${name} must not match ${JSON.stringify(s.neg)}`);
    }
  });
}

test('library: SYSLOGLINE captures message next to the original one, as Logstash', () => {
  const g = compileGrok('%{SYSLOGLINE}', lib, opts);
  const line = 'Mar  7 10:15:02 gateway sshd[99]: Connection closed';
  const fields: Record<string, unknown> = { message: line };
  applyCaptures(g.regex.exec(line)!, g.slots, fields, false);
  assert.deepEqual(fields, { message: [line, 'Connection closed'], timestamp: 'Mar  7 10:15:02', logsource: 'gateway', program: 'sshd', pid: '99' });
});

test('library: UNIXPATH matches Unicode path segments (POSIX [[:alnum:]] is Unicode)', () => {
  const g = compileGrok('%{UNIXPATH:p}', lib, opts);
  assert.equal(g.regex.exec('/tmp/Čý中/ok')![0], '/tmp/Čý中/ok');
});

test('library: NUMBER is atomic, so "version %{NUMBER:major}\\.%{INT:minor}" fails on "version 3.14"', () => {
  assert.equal(compileGrok('version %{NUMBER:major}\\.%{INT:minor}', lib, opts).regex.exec('version 3.14'), null);
});

test('library: WORD cannot match inside josé (Unicode word boundary)', () => {
  const g = compileGrok('%{WORD:w}', lib, opts);
  assert.equal(g.regex.exec('josé'), null);
  assert.equal(g.regex.exec('josé x')![0], 'x');
});

test('library: REDISLOG keeps its trailing space', () => {
  assert.equal(lib.get('REDISLOG')!.endsWith('\\* '), true);
});

test('library: JAVACLASS and JAVAFILE are defined once, as in Logstash (a class without a package, a file with a space)', () => {
  const g = compileGrok('^%{JAVASTACKTRACEPART}$', lib, opts);
  const fields: Record<string, unknown> = {};
  applyCaptures(g.regex.exec('    at Main.run(Native Method)')!, g.slots, fields, false);
  assert.deepEqual(fields, { class: 'Main', method: 'run', file: 'Native Method' });
});
