import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileRuleFile, readRawRules, type RuleError } from '../src/rules.js';
import { loadRuleFiles, checkRuleFiles } from '../src/loader.js';
import { tempRuleFile } from './util.js';

test('rule files: continuation keeps the next line leading spaces; comments and rem end nothing', () => {
  const errors: RuleError[] = [];
  const { rules } = readRawRules('type=Single\nrem=a remark\nptype=SubStr\npattern=a \\\n   b\ndesc=x\naction=none\n# c\n\n  \ntype=Suppress\nptype=TValue\npattern=TRUE\n', 'f', errors);
  assert.equal(errors.length, 0);
  assert.equal(rules.length, 2);
  assert.equal(rules[0]!.fields.get('pattern')!.value, 'a    b');
  assert.equal(rules[0]!.fields.has('rem'), false);
  assert.equal(rules[1]!.start, 11);
});

test('rule files: errors carry the file and line; invalid rules are skipped and not numbered', () => {
  const errors: RuleError[] = [];
  const rf = compileRuleFile('type=Single\nptype=RegExp\npattern=a\ndesc=x\naction=local %x\n\ntype=Single\nptype=SubStr\npattern=b\ndesc=y\naction=none\n\nthis is not a field\n', 'f.sec', {}, errors);
  assert.equal(rf.rules.length, 1);
  assert.equal(rf.rules[0]!.id, 0);
  assert.deepEqual(errors.map((e) => [e.file, e.line]).sort(), [['f.sec', 13], ['f.sec', 5]]);
});

test('rule files: GoTo resolves forward labels; a backward label falls back to DontCont with a warning', () => {
  const errors: RuleError[] = [];
  const rf = compileRuleFile('label=top\ntype=Single\nptype=SubStr\npattern=a\ncontinue=GoTo top\ndesc=x\naction=none\n\ntype=Single\nptype=SubStr\npattern=a\ncontinue=goto end\ndesc=x\naction=none\n\nlabel=end\n', 'f', {}, errors);
  assert.equal(rf.rules[1]!.c1.goto, 2);
  assert.equal(rf.rules[0]!.c1.goto, 2);
  assert.match(errors[0]!.message, /warning: can't go backwards/);
});

test('rule files: Perl code is refused with file and line', () => {
  const errors: RuleError[] = [];
  compileRuleFile('type=Single\nptype=PerlFunc\npattern=sub { 1 }\ndesc=x\naction=none\n\ntype=Single\nptype=SubStr\npattern=a\ndesc=x\naction=lcall %o -> ( sub { 1 } )\n\ntype=Single\nptype=SubStr\npattern=a\ncontext=$1 -> (sub {1})\ndesc=x\naction=none\n', 'p.sec', {}, errors);
  assert.deepEqual(errors.map((e) => e.line), [2, 11, 16]);
  assert.match(errors[0]!.message, /Perl code/);
  assert.match(errors[1]!.message, /lcall/);
});

test('rule files: shell actions fail without allow_shell, naming the line and pipeline sec migrate', () => {
  const errors: RuleError[] = [];
  compileRuleFile('type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=write - a; \\\n  shellcmd touch /tmp/x\n', 's.sec', {}, errors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.line, 5);
  assert.match(errors[0]!.message, /allow_shell => true.*pipeline sec migrate/);
  const ok: RuleError[] = [];
  compileRuleFile('type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=shellcmd touch /tmp/x\n', 's.sec', { allowShell: true }, ok);
  assert.equal(ok.length, 0);
});

test('loader: several patterns and globs, in order, duplicates once; checkRuleFiles like sec --testonly', () => {
  const t = tempRuleFile('type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=none\n', 'b.sec');
  try {
    writeFileSync(join(t.dir, 'a.sec'), 'type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=none\n');
    mkdirSync(join(t.dir, 'sub'));
    writeFileSync(join(t.dir, 'sub', 'c.sec'), 'type=Single\nptype=Bogus\npattern=a\ndesc=x\naction=none\n');
    const l = loadRuleFiles([join(t.dir, 'sub/*.sec'), join(t.dir, '*.sec'), join(t.dir, 'a.sec')]);
    assert.deepEqual(l.files.map((f) => f.file.slice(t.dir.length + 1)), ['sub/c.sec', 'a.sec', 'b.sec']);
    const c = checkRuleFiles([join(t.dir, '**/c.sec'), join(t.dir, 'sub/c.sec')]);
    assert.equal(c.errors.length, 1);
    assert.equal(c.errors[0]!.line, 2);
    assert.match(c.errors[0]!.message, /invalid pattern type 'Bogus'/);
  } finally {
    t.cleanup();
  }
});

test('rule files: with allow_shell, a shell command line holding match variables is a warning (the *exec forms are not)', () => {
  const errors: RuleError[] = [];
  const rf = compileRuleFile(
    [
      "type=Single\nptype=RegExp\npattern=(\\S+) (.*)\ndesc=x\naction=shellcmd alerta send --text '$0'",
      'type=Single\nptype=RegExp\npattern=(\\S+)\ndesc=x\naction=cmdexec /usr/bin/logger $1; shellcmd touch /tmp/x',
      'type=Single\nptype=RegExp\npattern=(\\S+)\ndesc=x\naction=assign %h yes; if %h ( spawn /bin/echo "$1" )',
      'type=Single\nptype=RegExp\npattern=(\\S+)\ndesc=x\naction=pipe \'$0\' /usr/bin/mail -s "$1" root',
    ].join('\n\n') + '\n',
    's.sec',
    { allowShell: true },
    errors,
  );
  assert.equal(rf.rules.length, 4, 'the rules still load');
  assert.ok(errors.every((e) => e.message.startsWith('warning:')));
  assert.deepEqual(errors.map((e) => e.line), [5, 17, 23]);
  assert.match(errors[0]!.message, /match variables.*shell command line.*pipeline sec migrate/);
  assert.match(errors[1]!.message, /'spawn'/);
  assert.match(errors[2]!.message, /'pipe'/);
});

test('rule files: action lists nested thousands deep are a rule error, not a stack overflow', () => {
  const deep = (n: number) => 'if %a ( '.repeat(n) + 'write - x' + ' )'.repeat(n);
  const errors: RuleError[] = [];
  const rf = compileRuleFile(`type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=${deep(5000)}\n\ntype=Single\nptype=SubStr\npattern=a\ndesc=x\naction=${deep(20)}\n`, 'n.sec', {}, errors);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.line, 5);
  assert.match(errors[0]!.message, /nested more than 64 deep/);
  assert.equal(rf.rules.length, 1, 'the rule nested 20 deep loads');
});
