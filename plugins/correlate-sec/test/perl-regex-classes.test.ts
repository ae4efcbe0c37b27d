/**
 * The Perl → JavaScript translation of SEC patterns, checked against the real perl on this
 * machine. Each row is (pattern, subject); perl compiles the pattern the way SEC does
 * (`eval { qr/$pattern/ }` on a byte string read from the rule file) and matches it in list
 * context; the translated regex must agree on: compile error or not, match or not, the span of
 * the match, and every capture ($1.., undef included; `1` when there are no groups).
 * Patterns and subjects are byte strings (one char per byte), as inside the engine.
 * Without perl the test fails: it is the oracle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PerlRegex, PerlRegexError } from '../src/perl-regex.js';

type Row = [pattern: string, subject: string];

/** What perl says for one row. */
type PerlAnswer = { error: true } | { error: false; match: false } | { error: false; match: true; start: number; end: number; list: (string | undefined)[] };

const PERL = String.raw`
no warnings;
binmode STDIN; binmode STDOUT;
while (my $l = <STDIN>) {
  chomp $l;
  my ($ph, $sh) = split /\t/, $l, -1;
  my $p = pack('H*', $ph);
  my $s = pack('H*', $sh);
  my $re = eval { qr/$p/ };
  if (!defined $re) { print "E\n"; next; }
  my @m = ($s =~ $re);
  if (!@m) { print "N\n"; next; }
  print join("\t", 'Y', $-[0], $+[0], map { defined $_ ? 'h' . unpack('H*', $_) : '-' } @m), "\n";
}
`;

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

function askPerl(rows: Row[]): PerlAnswer[] {
  const input = rows.map(([p, s]) => `${hex(p)}\t${hex(s)}\n`).join('');
  const r = spawnSync('perl', ['-e', PERL], { input, maxBuffer: 64 << 20 });
  assert.ok(!r.error, `perl is the oracle of this test and could not be run: ${r.error?.message}`);
  assert.equal(r.status, 0, `perl failed: ${r.stderr}`);
  const lines = r.stdout.toString('latin1').split('\n');
  lines.pop();
  assert.equal(lines.length, rows.length, 'perl answered every row');
  return lines.map((l) => {
    if (l === 'E') return { error: true };
    if (l === 'N') return { error: false, match: false };
    const [, start, end, ...caps] = l.split('\t');
    return {
      error: false,
      match: true,
      start: Number(start),
      end: Number(end),
      list: caps.map((c) => (c === '-' ? undefined : Buffer.from(c.slice(1), 'hex').toString('latin1'))),
    };
  });
}

const show = (s: string) => JSON.stringify(s);

/** Compares our translation with perl's answer; returns a description of the difference, or ''. */
function differs(row: Row, want: PerlAnswer): string {
  const [p, s] = row;
  let re: PerlRegex;
  try {
    re = new PerlRegex(p);
  } catch (e) {
    if (want.error && e instanceof PerlRegexError) return '';
    return `/${p}/ on ${show(s)}: perl ${want.error ? 'refuses it too but we threw ' + String(e) : 'compiles it'}, we threw ${(e as Error).message}`;
  }
  if (want.error) return `/${p}/: perl refuses the pattern, we compiled it to /${re.t.source}/${re.t.flags}`;
  const got = re.exec(s);
  const at = `/${p}/ (as /${re.t.source}/${re.t.flags}) on ${show(s)}`;
  if (re.test(s) !== want.match) return `${at}: test() says ${!want.match}, perl says ${want.match}`;
  if (!want.match) return got === null ? '' : `${at}: we match ${show(JSON.stringify(got.list))}, perl does not`;
  if (got === null) return `${at}: perl matches ${JSON.stringify(want.list)}, we do not`;
  if (JSON.stringify(got.list.map((v) => v ?? null)) !== JSON.stringify(want.list.map((v) => v ?? null)))
    return `${at}: captures ${JSON.stringify(got.list)}, perl ${JSON.stringify(want.list)}`;
  // \K moves where $& starts, which SEC never reads; everything else must give the same span
  if (!p.includes('\\K')) {
    const m = re.re.exec(s)!;
    if (m.index !== want.start || m.index + m[0].length !== want.end)
      return `${at}: span ${m.index}..${m.index + m[0].length}, perl ${want.start}..${want.end}`;
  }
  return '';
}

function check(rows: Row[], minRows: number): void {
  assert.ok(rows.length >= minRows, `${rows.length} rows`);
  const answers = askPerl(rows);
  const problems = rows.map((r, i) => differs(r, answers[i]!)).filter((d) => d !== '');
  assert.deepEqual(problems, [], `${problems.length} of ${rows.length} rows differ from perl`);
}

const SSHD = 'host1 sshd[4242]: [ID 800047 auth.info] Accepted publickey for bob from 10.0.0.1 port 5022 ssh2';

const ROWS: Row[] = [
  // a leading ] is a literal member; [^] and [] never close on their own
  ['^[]a]+$', 'a]a'],
  ['^[]a]+$', 'ab'],
  ['[]]', 'x]'],
  ['^[]]]$', ']]'],
  ['^[^]]+$', 'abc'],
  ['^[^]]+$', 'a]'],
  ['^[^]a]$', 'b'],
  ['^[^]a]$', ']'],
  ['^[^]a]$', 'a'],
  ['[]', ']'],
  ['[^]', 'x'],
  ['x[]', 'x]'],
  ['^[]-]+$', '-]-'],
  ['^[]-]+$', 'a'],
  ['^[]-a]$', '^'],
  ['^[]-a]$', '`'],
  ['^[]-a]$', '-'],
  ['\\[([^]]+)\\] (\\w+)', '[ID 800047 auth.error] error'],
  ['^(\\S+) sshd\\[([0-9]+)\\]: \\[[^]]+\\] Accepted (publickey|password) for ([A-z0-9_-]+) from [0-9.]+ port [0-9]+ (.*)', SSHD],
  ['([A-z0-9_-]+)', 'a[b]^_`c'],
  // escaped ] and other escaped specials inside a class
  ['^[\\]]$', ']'],
  ['^[\\]a]+$', 'a]]a'],
  ['^[a\\]]+$', ']a'],
  ['^[\\\\]+$', '\\\\'],
  ['^[\\^]$', '^'],
  ['^[a\\-z]+$', 'a-z'],
  ['^[a\\-z]+$', 'b'],
  ['^[\\[]$', '['],
  ['^[[]$', '['],
  ['^[a[]+$', '[a['],
  ['^[$.|()*+?{}]+$', '$.|()*+?{}'],
  // ranges whose ends are escapes
  ['^[\\x41-\\x5A]+$', 'ABZ'],
  ['^[\\x41-\\x5A]+$', 'a'],
  ['^[\\t-\\r]+$', '\t\n\v\f\r'],
  ['^[\\t-\\r]$', ' '],
  ['^[\\0-\\x1f]+$', '\x00\x1f'],
  ['^[\\cA-\\cZ]+$', '\x01\x05\x1a'],
  ['^[\\N{U+41}-\\N{U+43}]+$', 'ABC'],
  ['^[\\o{101}-\\o{103}]+$', 'ABC'],
  ['^[\\101-\\103]+$', 'BC'],
  ['^[\\x{41}-Z]+$', 'AZ'],
  ['^[!-\\/]+$', '!/'],
  ['^[\\x80-\\xff]+$', '\xe9\xff\x80'],
  ['^[^\\x00-\\x7f]$', '\xe9'],
  ['^[^\\x00-\\x7f]$', 'e'],
  ['^[a-a]$', 'a'],
  ['[z-a]', 'a'],
  ['[\\x5a-\\x41]', 'A'],
  // false ranges: a class escape or POSIX class at either end makes the - literal
  ['^[a-\\d]+$', '-a5'],
  ['^[a-\\d]+$', 'b'],
  ['^[\\w-]+$', 'a-b'],
  ['^[\\w-z]$', '-'],
  ['^[\\d-z]$', 'y'],
  ['^[\\d-z]$', '-'],
  ['^[[:digit:]-z]+$', '-z1'],
  ['^[[:digit:]-z]+$', 'y'],
  ['^[a-]+$', 'a-'],
  ['^[-a]+$', '-a'],
  ['^[^-a]$', 'b'],
  ['^[^-a]$', '-'],
  // POSIX classes inside brackets
  ['^[[:alpha:]_]+$', 'a_B'],
  ['^[[:alpha:]_]+$', 'a1'],
  ['^[[:^digit:]]+$', 'ab'],
  ['^[[:^digit:]]+$', 'a1'],
  ['^[[:alpha:][:digit:]]+$', 'a1'],
  ['^[^[:space:]]+$', 'abc'],
  ['^[^[:space:]]+$', 'a c'],
  ['^[[:punct:]]+$', '!/:@[`{~'],
  ['^[[:word:]]+$', 'a_1'],
  ['^[[:xdigit:]]+$', 'fF09'],
  ['^[[:xdigit:]]+$', 'g'],
  ['^[[:alpha:]]$', '\xe9'],
  ['^[[:blank:]]$', '\xa0'],
  ['^[[:foo:]]', 'a'],
  ['[[:Alpha:]]', 'a'],
  ['[[.a.]]', 'a'],
  ['[[=a=]]', 'a'],
  ['^[[:Alpha:]]$', 'A]'],
  ['^[[:ALPHA:]]$', 'A]'],
  ['^[[:alpha1:]]$', 'a'],
  ['^[[:al_pha:]]$', 'a'],
  ['^[[: alpha:]]$', 'a]'],
  ['^[[:alpha :]]$', 'a]'],
  ['^[[:alpha: ]]$', 'a]'],
  ['^[[:x:]]$', 'x]'],
  ['^[[::]]$', ':]'],
  ['^[[:^:]]$', '^]'],
  ['^[[:abcdefghijklmn:]]$', 'a]'],
  ['^[[:abcdefghijklmno:]]$', 'a]'],
  ['^[[:!!!:]]$', '!]'],
  ['^[[:ab!:]]$', 'a'],
  ['^[[:123:]]$', '1'],
  ['^[[:^ab:]]$', 'b]'],
  ['^[[:^foo:]]$', 'a'],
  ['^[[=ab=]]$', 'a'],
  ['^[[.x.]]$', 'x'],
  ['^[[.:]]$', '.]'],
  ['^[[..]]$', '.'],
  ['^[[:alpha:.]]$', 'a]'],
  ['^[[:alpha:]x:]]$', 'x:]'],
  ['^[[:alpha]+$', ':alph'],
  ['^[[:alpha]+$', 'x'],
  ['^[:alpha:]+$', 'hall'],
  ['^[:alpha:]+$', 'x'],
  ['[[:alpha:]', 'a'],
  ['^[[:alpha:]]xy$', 'axy'],
  // case-insensitive classes (Perl /d: ASCII letters only)
  ['(?i)^[a-c]+$', 'AbC'],
  ['(?i)^[^a]$', 'A'],
  ['(?i)^[^a]$', 'b'],
  ['(?i)^[\\x00-\\x60]$', 'a'],
  ['(?i)^[Z-a]+$', 'z_A'],
  ['(?i)^[[:upper:]]+$', 'abc'],
  ['(?i)^[[:^lower:]]$', 'a'],
  ['(?i)^[[:^lower:]]$', 'A'],
  ['(?i)^[[:^lower:]]$', '1'],
  ['(?i)^[^[:lower:]]$', 'A'],
  ['(?i)\\xe9', '\xc9'],
  ['(?i)[\\xe9]', '\xc9'],
  ['(?i)^[^\\xe9]$', '\xc9'],
  ['(?i)^[^\\xe9]$', '\xe9'],
  ['(?i)^\xc3\xa9t\xc3\xa9$', '\xc3\xa9T\xc3\xa9'],
  ['(?i)^\xc3\xa9$', '\xc3\x89'],
  ['(?i)a(?-i)b', 'AB'],
  ['(?i)a(?-i)b', 'Ab'],
  ['(?i)^(a)\\1$', 'aA'],
  ['a(?i)[b-d]', 'aC'],
  ['A(?i:[b-d])E', 'AcE'],
  ['A(?i:[b-d])E', 'Ace'],
  // /x and /xx: only /xx ignores blanks inside brackets
  ['(?x)^[a b]+$', 'a b'],
  ['(?xx)^[a b]+$', 'a b'],
  ['(?xx)^[a b]+$', 'ab'],
  ['(?xx)^[ ^a]$', 'b'],
  ['(?xx)^[ ^a]$', 'a'],
  ['(?xx)^[ ]]$', ']'],
  ['(?xx)^[a - c]+$', 'b'],
  ['(?x)^[#]$', '#'],
  ['(?x)^a b # comment\n c$', 'abc'],
  ['(?x)^a\\ b$', 'a b'],
  // class escapes
  ['^[\\b]$', '\x08'],
  ['^[\\e\\a\\f]+$', '\x1b\x07\x0c'],
  ['^[\\R]$', 'R'],
  ['^[\\K\\z\\Q\\X]+$', 'KzQX'],
  ['^[\\8]$', '8'],
  ['^[\\1]$', '\x01'],
  ['^[\\x4]$', '\x04'],
  ['^[\\h]+$', '\t \xa0'],
  ['^[\\H]$', '\xa0'],
  ['^[\\v]+$', '\n\v\f\r\x85'],
  ['^[\\V]$', '\x85'],
  ['^[\\s]+$', '\v\t\n\f\r '],
  ['^[\\S]$', '\xa0'],
  ['^[\\W]$', '\xe9'],
  ['^[\\D\\d]+$', 'a1\xe9'],
  ['[\\N]', 'N'],
  // outside classes
  ['^\\s$', '\xa0'],
  ['^\\s$', '\x85'],
  ['^\\w$', '\xe9'],
  ['^.$', '\r'],
  ['^.$', '\n'],
  ['^a$', 'a\n'],
  ['^\\N{U+41}\\x{42}\\o{103}\\104\\x45$', 'ABCDE'],
  ['^\\cA\\c[\\c?$', '\x01\x1b\x7f'],
  // \Q..\E, \U, \L are string escapes: in a pattern compiled at run time they are plain letters
  ['\\Q1.2\\E', '1.2'],
  ['\\Q1.2\\E', 'Q1x2E'],
  ['^\\Uab$', 'Uab'],
  ['^\\Uab$', 'AB'],
  ['^\\Lx\\E$', 'LxE'],
  ['^a\\Kb$', 'ab'],
  ['^(a)\\18', 'a\x018'],
  ['^(a)\\18', 'aa8'],
  // quantifiers (Perl 5.34+: {,n} and blanks inside braces)
  ['^a{,2}$', 'aa'],
  ['^a{,2}$', 'aaa'],
  ['^a{ 1 , 2 }$', 'aa'],
  ['^x{a}$', 'x{a}'],
  ['^x{,}$', 'x{,}'],
  ['^x{$', 'x{'],
  ['^a{2,1}b|c', 'c'],
  ['^a{2,1}b|c', 'aab'],
  ['^(?:(a){2,1})?b$', 'b'],
  ['^ba(?#note)+$', 'baa'],
  ['xab{2}cd', 'xabbcd'],
  ['\\x41bc', 'Abc'],
  ['a+bc', 'xaaabc'],
  // captures and groups
  ['^(x)?(y)$', 'y'],
  ['(a)|(b)', 'b'],
  ['^(?P<n>\\w)(?P=n)$', 'aa'],
  ['^(?<n>\\w)\\k<n>$', 'ab'],
  ['^(\\d+)(?>\\w+)(\\d)$', '12ab3'],
  ['^a++a', 'aaa'],
  ['nogroups', 'some nogroups here'],
];

test('perl regex: bracket classes and escapes behave as in the real perl (table of rows)', () => {
  check(ROWS, 40);
});

test('perl regex: every POSIX class, class escape and their negations, with and without /i, on each of the 256 bytes', () => {
  const exprs: string[] = [];
  for (const name of ['alpha', 'alnum', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'word', 'xdigit']) {
    exprs.push(`[[:${name}:]]`, `[[:^${name}:]]`, `[^[:${name}:]]`, `(?i)[[:${name}:]]`, `(?i)[[:^${name}:]]`, `(?i:[[:${name}:]])`, `(?i:[^[:^${name}:]])`);
  }
  for (const e of ['w', 'W', 'd', 'D', 's', 'S', 'h', 'H', 'v', 'V']) exprs.push(`\\${e}`, `[\\${e}]`, `[^\\${e}]`, `(?i)[^\\${e}]`, `(?i:[^\\${e}])`);
  exprs.push('.', '(?s).', '[^]]', '(?i)[^]a-c]', '(?i)[\\xc0-\\xcf]', '(?i)[^\\xe0-\\xef]', '(?i)\\xd7', '[\\x00-\\xff]', '[^\\x00-\\xff]', '\\N', '\\R', '(?i:[^\\xe0-\\xef])', '(?i:\\xc9)');
  const rows: Row[] = [];
  for (const e of exprs) {
    const lead = /^\(\?[a-z]+\)/.exec(e)?.[0] ?? '';
    const pat = `${lead}^(?:${e.slice(lead.length)})$`;
    for (let b = 0; b < 256; b++) if (b !== 0x0a) rows.push([pat, String.fromCharCode(b)]);
  }
  check(rows, 40);
});

test('perl regex: what perl accepts and the translation refuses says why, at load', () => {
  // each compiles in perl (checked here) and is refused with a message naming the construct
  const refused: [string, RegExp][] = [
    ['\\x{263a}', /above \\xff/],
    ['[\\x{100}]', /above \\xff/],
    ['\\N{LATIN SMALL LETTER A}', /\\N\{NAME\}/],
    ['\\p{L}', /not supported/],
    ['\\bx\\b{wb}', /not supported/],
    ['a\\Gb', /not supported/],
  ];
  const answers = askPerl(refused.map(([p]) => [p, 'a']));
  refused.forEach(([p, why], i) => {
    assert.equal(answers[i]!.error, false, `perl compiles /${p}/`);
    assert.throws(() => new PerlRegex(p), (e: unknown) => e instanceof PerlRegexError && why.test((e as Error).message), `/${p}/ is refused`);
  });
});
