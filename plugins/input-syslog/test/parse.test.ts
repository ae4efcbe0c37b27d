import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSyslog } from '../src/parse.js';
import { wallClock } from '../src/zone.js';

const NOW = Date.UTC(2026, 10, 27, 23, 0, 0);
const utc = wallClock('UTC');
const parse = (s: string) => parseSyslog(s, '10.0.0.9', NOW, utc);

describe('syslog parser: RFC 3164', () => {
  it('reads PRI, timestamp, hostname, program[pid] and message', () => {
    const p = parse('<38>Nov 27 22:28:09 fw1 sshd[4242]: Accepted publickey for root');
    assert.deepEqual(p, {
      priority: 38, timestamp: 'Nov 27 22:28:09', epochMs: Date.UTC(2026, 10, 27, 22, 28, 9),
      logsource: 'fw1', program: 'sshd', pid: '4242', message: 'Accepted publickey for root',
    });
  });

  it('pfSense style without hostname: the tag is recognised and logsource is the sender', () => {
    const p = parse('<134>Nov  7 01:02:03 filterlog[1234]: 5,,,1000000103,igb0,match,block,in');
    assert.equal(p!.logsource, '10.0.0.9');
    assert.equal(p!.program, 'filterlog');
    assert.equal(p!.pid, '1234');
    assert.equal(p!.message, '5,,,1000000103,igb0,match,block,in');
    assert.equal(p!.timestamp, 'Nov  7 01:02:03');
  });

  it('without PRI (priority 13), with a program without pid, with slashes in the program', () => {
    const p = parse('Nov 27 22:28:09 host postfix/smtpd: connect from x');
    assert.equal(p!.priority, 13);
    assert.equal(p!.program, 'postfix/smtpd');
    assert.equal(p!.pid, undefined);
    assert.equal(p!.logsource, 'host');
  });

  it('with an ISO 8601 timestamp, and without a tag', () => {
    const p = parse('<13>2026-11-27T22:28:09.123+01:00 host just text here');
    assert.equal(p!.epochMs, Date.UTC(2026, 10, 27, 21, 28, 9, 123));
    assert.equal(p!.program, undefined);
    assert.equal(p!.message, 'just text here');
  });

  it('December messages read in early January belong to last year; timezone applies', () => {
    const jan = Date.UTC(2027, 0, 1, 0, 5);
    assert.equal(parseSyslog('<13>Dec 31 23:59:00 h p: x', 'ip', jan, utc)!.epochMs, Date.UTC(2026, 11, 31, 23, 59));
    const helsinki = wallClock('Europe/Helsinki');
    assert.equal(parseSyslog('<13>Jul  1 12:00:00 h p: x', 'ip', NOW, helsinki)!.epochMs, Date.UTC(2026, 6, 1, 9, 0));
    assert.equal(parseSyslog('<13>Jan  1 12:00:00 h p: x', 'ip', NOW, helsinki)!.epochMs, Date.UTC(2026, 0, 1, 10, 0));
  });

  it('refuses what is not syslog', () => {
    for (const s of ['plain text line', '<999>Nov 27 22:28:09 h p: x', '<13>Foo 27 22:28:09 h p: x', '', '\u0000\ufffd']) assert.equal(parse(s), undefined, s);
  });
});

describe('syslog parser: RFC 5424', () => {
  it('reads the header, structured data with escapes, and the message (BOM removed)', () => {
    const p = parse('<165>1 2026-11-27T22:14:15.003Z mymachine.example.com evntslog 77 ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\"ication\\]" eventID="1011"][timeQuality tzKnown="1"] \ufeffAn application event');
    assert.deepEqual(p, {
      priority: 165, timestamp: '2026-11-27T22:14:15.003Z', epochMs: Date.UTC(2026, 10, 27, 22, 14, 15, 3),
      logsource: 'mymachine.example.com', program: 'evntslog', pid: '77', msgid: 'ID47',
      structuredData: { 'exampleSDID@32473': { iut: '3', eventSource: 'Appl"ication]', eventID: '1011' }, timeQuality: { tzKnown: '1' } },
      message: 'An application event',
    });
  });

  it('nil values and no message', () => {
    const p = parse('<13>1 - - - - - -');
    assert.deepEqual(p, { priority: 13, timestamp: undefined, epochMs: undefined, logsource: '10.0.0.9', program: undefined, pid: undefined, msgid: undefined, structuredData: undefined, message: '' });
  });

  it('a broken structured data block is a failure', () => {
    assert.equal(parse('<13>1 2026-11-27T22:14:15Z h app - - [id x="unterminated] msg'), undefined);
  });
});
