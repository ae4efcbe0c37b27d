import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRules } from './util.js';

const W = 'write out.txt';

test('Single: match variables, desc as %s, TakeNext and EndMatch', () => {
  const { out } = runRules(`type=Single\nptype=RegExp\npattern=user (\\w+)\ncontinue=TakeNext\ndesc=user $1\naction=${W} %s\n\ntype=Single\nptype=SubStr\npattern=user\ncontinue=EndMatch\ndesc=second\naction=${W} %s $0\n\ntype=Single\nptype=TValue\npattern=TRUE\ndesc=never\naction=${W} %s\n`, ['user bob']);
  assert.equal(out, 'user bob\nsecond $0\n');
});

test('SingleWithSuppress: one action per window per desc', () => {
  const { out } = runRules(`type=SingleWithSuppress\nptype=RegExp\npattern=(\\S+) full\ndesc=$1\naction=${W} %u %s\nwindow=10\n`, ['a full', 'a full', 'b full', '@10', 'a full', '@11', 'a full']);
  assert.equal(out, `${1700000000} a\n1700000000 b\n1700000011 a\n`);
});

test('Pair and PairWithWindow: second pattern with $1 from the first, %1 in desc2, timeout action', () => {
  const { out } = runRules(
    `type=Pair\nptype=RegExp\npattern=down (\\S+)\ndesc=down $1\naction=${W} %s\nptype2=RegExp\npattern2=up $1\ndesc2=%1 back after down\naction2=${W} %s\n\ntype=PairWithWindow\nptype=RegExp\npattern=fail (\\S+)\ndesc=no login for $1\naction=${W} %u %s\nptype2=SubStr\npattern2=ok $1\ndesc2=ok $1\naction2=${W} %u %s\nwindow=5\n`,
    ['down a.b', 'up aXb', 'up a.b', 'fail x', 'fail y', '@3', 'ok y', '@6'],
  );
  assert.equal(out, 'down a.b\na.b back after down\n1700000003 ok y\n1700000006 no login for x\n');
});

test('SingleWithThreshold: sliding window and action2 when the window ends', () => {
  const { out } = runRules(`type=SingleWithThreshold\nptype=RegExp\npattern=fail (\\S+) (\\d+)\ndesc=fails $1\naction=${W} %u %s first=$2\naction2=${W} %u end %s\nwindow=10\nthresh=3\n`, ['fail a 1', '@8', 'fail a 2', '@11', 'fail a 3', '@12', 'fail a 4', '@30']);
  assert.equal(out, '1700000012 fails a first=1\n1700000030 end fails a\n');
});

test('SingleWith2Thresholds: up, then down when quiet for window2', () => {
  const { out } = runRules(`type=SingleWith2Thresholds\nptype=RegExp\npattern=hog (\\S+)\ndesc=$1 up\naction=${W} %u %s\nwindow=10\nthresh=2\ndesc2=$1 down\naction2=${W} %u %s\nwindow2=5\nthresh2=0\n`, ['hog r', '@2', 'hog r', '@4', 'hog r', '@9', '@10']);
  assert.equal(out, '1700000002 r up\n1700000010 r down\n');
});

test('EventGroup2: thresholds per event, init/count/end lists', () => {
  const { out } = runRules(`type=EventGroup2\nptype=RegExp\npattern=A (\\w+)\nthresh=2\nptype2=RegExp\npattern2=B (\\w+)\ncount2=${W} count B $1\ndesc=group $1\naction=${W} %u %s\ninit=${W} init %s\nend=${W} end %s\nwindow=10\n`, ['A k', 'B k', 'A k', '@20']);
  assert.equal(out, 'init group k\ncount B k\n1700000000 group k\nend group k\n');
});

test('Suppress, Jump into a file set, Calendar', () => {
  const { out } = runRules(`type=Suppress\nptype=SubStr\npattern=noise\n\ntype=Calendar\ntime=14 22 * * *\ndesc=cal\naction=${W} %u %s %.hmsstr\n\ntype=Single\nptype=SubStr\npattern=o\ndesc=seen\naction=${W} %s $0\n`, ['noise', 'hello', '@40', '@50']);
  assert.equal(out, 'seen $0\n1700000040 cal 22:14:00\n');
});

test('contexts: lifetimes, expiry action list, context expressions with SEC precedence', () => {
  const rules = `type=Single\nptype=RegExp\npattern=mk (\\w+) (\\d+)\ndesc=mk\naction=create C_$1 $2 ( ${W} %u expired $1 )\n\ntype=Single\nptype=RegExp\npattern=test\ncontext=C_a || C_b && C_c\ndesc=t\naction=${W} %u matched\n`;
  // A || B && C is A && B in sec: with only C_a and C_c it is false
  const r1 = runRules(rules, ['mk a 5', 'mk c 0', 'test', '@6', 'mk b 0', 'test']);
  assert.equal(r1.out, '1700000006 expired a\n');
  const r2 = runRules(rules, ['mk a 0', 'mk b 0', 'test']);
  assert.equal(r2.out, '1700000000 matched\n');
});

test('actions: event stores, variables, if/while, synthetic events after all rules, assignsq', () => {
  const { out } = runRules(
    `type=Single\nptype=RegExp\npattern=^go (\\d)$\ncontinue=TakeNext\ndesc=go\naction=event SYN $1; assign %n $1; while %n ( add L item%n; getsize %n X ); \\\n  copy L %all; ${W} all=%all; pop L %p; shift L %q; getsize %s2 L; ${W} %p %q %s2; assignsq %sq it's; ${W} %sq\n\ntype=Single\nptype=SubStr\npattern=go\ndesc=after\naction=${W} after; exists %e L; if %e ( ${W} exists ) else ( ${W} missing )\n\ntype=Single\nptype=RegExp\npattern=^SYN (\\d)\ndesc=syn\naction=${W} synthetic $1 from $+{_inputsrc}\n`,
    ['go 3'],
  );
  assert.equal(out, "all=item3\nitem3  0\n'it'\\''s'\nafter\nexists\nsynthetic 3 from synthetic\n");
});

test('reset and getwpos/setwpos address operations by rule offset and desc', () => {
  const { out } = runRules(`type=SingleWithThreshold\nptype=RegExp\npattern=f (\\w+)\ndesc=f $1\naction=${W} fired %s\nwindow=60\nthresh=2\n\ntype=Single\nptype=RegExp\npattern=r (\\w+)\ndesc=r\naction=getwpos %w -1 f $1; ${W} wpos %w; reset -1 f $1\n`, ['f a', 'r a', 'f a', 'f a']);
  assert.equal(out, 'wpos 1700000000\nfired f a\n');
});

test('intevents and intcontexts: SEC_STARTUP/SEC_SHUTDOWN in SEC_INTERNAL_EVENT, _FILE_EVENT_ per line', () => {
  const { out } = runRules(`type=Single\nptype=RegExp\npattern=^SEC_(\\w+)$\ncontext=SEC_INTERNAL_EVENT\ndesc=int\naction=${W} internal $1\n\ntype=Single\nptype=SubStr\npattern=x\ncontext=_FILE_EVENT_-\ndesc=f\naction=${W} from input\n`, ['x'], { intevents: true, intcontexts: true });
  assert.equal(out, 'internal STARTUP\nfrom input\ninternal SHUTDOWN\n');
});

test('native alert and heartbeat emit structured fields; values are substituted after tokenising', () => {
  const got: [string, Record<string, unknown>][] = [];
  runRules(`type=Single\nptype=RegExp\npattern=sudo: (\\S+) failed (.*)\ndesc=sudo\naction=alert resource=$1 event="sudo failure on $1" severity=warning service=sudo,auth correlate=SEC tags=a,b timeout=60 attributes.user=$2 text=$0; heartbeat origin=$1_hb timeout=86400 tags=backup\n`, ['sudo: web1 failed bob severity=critical"'], {
    hooks: { emitNative: (k, f) => void got.push([k, f]) },
  });
  assert.deepEqual(got[0], ['alert', { resource: 'web1', event: 'sudo failure on web1', severity: 'warning', service: ['sudo', 'auth'], correlate: ['SEC'], tags: ['a', 'b'], timeout: 60, attributes: { user: 'bob severity=critical"' }, text: 'sudo: web1 failed bob severity=critical"' }]);
  assert.deepEqual(got[1], ['heartbeat', { origin: 'web1_hb', timeout: 86400, tags: ['backup'] }]);
});

test('native alert: bad parameters are load errors', () => {
  const r = runRules('type=Single\nptype=SubStr\npattern=a\ndesc=x\naction=alert resource=a event=b severity=information\n\ntype=Single\nptype=SubStr\npattern=a\ndesc=x\naction=alert event=b\n\ntype=Single\nptype=SubStr\npattern=a\ndesc=x\naction=heartbeat origin=x colour=red\n', []);
  assert.deepEqual(r.errors.map((e) => e.line), [5, 11, 17]);
  assert.match(r.errors[0]!.message, /informational/);
  assert.match(r.errors[1]!.message, /'resource' is required/);
  assert.match(r.errors[2]!.message, /unknown parameter 'colour'/);
});

test('dump lists live operations and contexts', () => {
  const { engine } = runRules(`type=SingleWithThreshold\nptype=RegExp\npattern=f (\\w+)\ndesc=f $1\naction=create SEEN_$1\nwindow=60\nthresh=1\n`, ['f a']);
  const d = engine.dump();
  assert.match(d, /Operation ID: .*r\.sec \| 0 \| f a/);
  assert.match(d, /Context name: SEEN_a/);
});
