import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import email, { type EmailOutput } from '../src/index.js';
import { makeCerts, SmtpPeer } from './smtp-peer.js';
import { Writable } from 'node:stream';
import pino from 'pino';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'email-test-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let certs: Awaited<ReturnType<typeof makeCerts>>;
let caFile: string;
const USERS = { alerts: 's3cret pass' };

before(async () => {
  certs = await makeCerts();
  caFile = join(tmp(), 'ca.pem');
  writeFileSync(caFile, certs.ca.cert);
});

const ev = (fields: Record<string, unknown>, ms = Date.UTC(2026, 10, 27, 22, 0, 0)) => new Event({ ...fields, '@timestamp': new Timestamp(ms) });

/** The homelab.conf block, pointed at the test relay, with STARTTLS required and AUTH. */
function conf(peer: SmtpPeer, extra = ''): string {
  return `address => "127.0.0.1" port => ${peer.port} starttls => "required" ssl_certificate_authorities => "${caFile}"
    username => "alerts" password => "s3cret pass" authentication => "login"
    from => "Pipeline <pipeline@example.org>" to => "root@example.org" subject => "%{[alert][attributes][mail_subject]}"
    body => "%{[alert][attributes][mail_body]}" retry_initial_interval => 1 retry_max_interval => 30 ${extra}`;
}

async function make(body: string, ctx: TestContext): Promise<EmailOutput> {
  return (await createPlugin(email, body, ctx)) as EmailOutput;
}

/** Advances the virtual clock in steps, letting each attempt's real SMTP conversation finish. */
async function advance(ctx: TestContext, out: EmailOutput, ms: number, step = 1_000): Promise<void> {
  await out.whenIdle();
  for (let t = 0; t < ms; t += step) {
    ctx.clock.advance(Math.min(step, ms - t));
    await out.whenIdle();
  }
}

const alert = (subject: string, body: string, extra: Record<string, unknown> = {}) => ev({ tags: ['alert'], alert: { attributes: { mail_subject: subject, mail_body: body } }, ...extra });
const metric = (ctx: TestContext, name: string) => ctx.metrics.counter(name).value;

describe('email output against a real SMTP server (smtp-server, STARTTLS, AUTH)', () => {
  test('headers and body arrive as configured, over STARTTLS with AUTH LOGIN; Bcc only in the envelope', async () => {
    const peer = await SmtpPeer.start({ tls: certs.server, users: USERS });
    const ctx = makeContext({ dataDir: tmp() });
    const out = await make(
      conf(peer, `cc => "Ops <ops@example.org>, %{[owner]}" bcc => "audit@example.org" replyto => "noc@example.org" htmlbody => "<b>%{[alert][attributes][mail_body]}</b>"`),
      ctx,
    );
    try {
      await out.receive([alert('ssh login failure in host1', 'ssh login failure in host1 from 10.0.0.9 by root\nsecond line', { owner: 'owner@example.org' })]);
      await out.whenIdle();
      assert.equal(peer.received.length, 1);
      const r = peer.received[0]!;
      assert.equal(r.secure, true, 'upgraded with STARTTLS');
      assert.equal(r.user, 'alerts');
      assert.equal(r.envelope.from, 'pipeline@example.org');
      assert.deepEqual(r.envelope.to.sort(), ['audit@example.org', 'ops@example.org', 'owner@example.org', 'root@example.org']);
      assert.equal(r.mail.subject, 'ssh login failure in host1');
      assert.deepEqual(r.mail.from?.value, [{ name: 'Pipeline', address: 'pipeline@example.org' }]);
      assert.equal((r.mail.to as { text: string }).text, 'root@example.org');
      assert.deepEqual((r.mail.cc as { value: unknown }).value, [
        { name: 'Ops', address: 'ops@example.org' },
        { name: '', address: 'owner@example.org' },
      ]);
      assert.equal(r.mail.bcc, undefined);
      assert.doesNotMatch(r.raw.split('\r\n\r\n')[0]!, /^bcc:/im);
      assert.equal((r.mail.replyTo as { text: string }).text, 'noc@example.org');
      assert.equal(r.mail.text?.trim(), 'ssh login failure in host1 from 10.0.0.9 by root\nsecond line');
      assert.equal(r.mail.html, '<b>ssh login failure in host1 from 10.0.0.9 by root\nsecond line</b>');
      assert.equal(metric(ctx, 'delivered'), 1);
      assert.equal(metric(ctx, 'failed'), 0);
    } finally {
      await out.close();
      await peer.stop();
    }
  });

  test('header injection through subject, from, to, cc and replyto values is neutralised', async () => {
    const peer = await SmtpPeer.start({ tls: certs.server, users: USERS });
    const ctx = makeContext({ dataDir: tmp() });
    const out = await make(
      conf(peer, `from => "%{[f]}" to => "root@example.org, %{[t]}" cc => "%{[c]}" replyto => "%{[r]}"`),
      ctx,
    );
    try {
      await out.receive([
        alert('failed login\r\nBcc: evil@attacker.example\r\nX-Injected: 1', 'body\r\n\r\nfake part', {
          f: 'pipeline@example.org',
          t: 'admin@example.org\nBcc: evil2@attacker.example',
          c: '"Ops\r\nX-Injected: 2" <ops@example.org>',
          r: 'noc@example.org\u0000\r\nReply-To: evil3@attacker.example',
        }),
      ]);
      await out.whenIdle();
      assert.equal(peer.received.length, 1, 'the mail still goes, to the addresses that are plain addresses');
      const r = peer.received[0]!;
      const head = r.raw.split('\r\n\r\n')[0]!;
      assert.doesNotMatch(head, /^(bcc|x-injected):/im, 'no header was injected');
      assert.equal(head.match(/^reply-to:/gim)?.length ?? 0, 0, 'a reply-to that is not one address is left out');
      assert.ok(!r.envelope.to.some((a) => a.includes('attacker')), `no injected recipient: ${r.envelope.to.join(',')}`);
      assert.deepEqual(r.envelope.to.sort(), ['ops@example.org', 'root@example.org']);
      assert.equal(r.mail.subject, 'failed login Bcc: evil@attacker.example X-Injected: 1', 'line breaks folded into spaces');
      assert.deepEqual(r.mail.cc && (r.mail.cc as { value: unknown }).value, [{ name: 'Ops X-Injected: 2', address: 'ops@example.org' }]);
      // a sender made of more than one address is refused before anything is sent, and dead-lettered
      await out.receive([alert('x', 'y', { f: 'pipeline@example.org\r\nBcc: evil1@attacker.example', t: '', c: '', r: '' })]);
      await out.whenIdle();
      assert.equal(peer.received.length, 1);
      assert.equal(metric(ctx, 'failed'), 1);
      assert.match(out.spool.deadLetters()[0]!.message, /from must be exactly one address/);
    } finally {
      await out.close();
      await peer.stop();
    }
  });
});

describe('email output: keeping mail rare (virtual clock)', () => {
  let peer: SmtpPeer;
  before(async () => {
    peer = await SmtpPeer.start({ tls: certs.server, users: USERS });
  });
  after(() => peer.stop());

  test('throttle: at most throttle_count mails per throttle_period per key; the rest are held back, logged, counted and listed in the mail that goes once the throttle allows', async () => {
    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (c, _e, cb) => (logs.push(JSON.parse(String(c))), cb()) }));
    const ctx = makeContext({ dataDir: tmp(), logger });
    const out = await make(conf(peer, `subject => "%{[s]}" throttle_count => 2 throttle_period => 600`), ctx);
    const base = peer.received.length;
    const mk = (s: string, i: number) => ev({ s, n: i, alert: { attributes: { mail_body: `event ${i}` } } }, Date.UTC(2026, 0, 1) + i);
    const throttledLogs = () => logs.filter((l) => String(l.msg).startsWith('email: throttled'));
    try {
      await out.receive([mk('disk full', 1), mk('disk full', 2), mk('disk full', 3), mk('other', 4), mk('disk full', 5)]);
      await out.whenIdle();
      assert.deepEqual(peer.received.slice(base).map((r) => r.mail.text?.trim()), ['event 1', 'event 2', 'event 4']);
      assert.equal(metric(ctx, 'throttled'), 2);
      assert.deepEqual(throttledLogs().map((l) => [l.subject, l.throttle_key, l.held_for_key, l.next_mail_in_s]), [['disk full', 'disk full', 1, 600], ['disk full', 'disk full', 2, 600]]);
      await advance(ctx, out, 599_000, 100_000);
      await out.receive([mk('disk full', 6)]);
      await out.whenIdle();
      assert.equal(peer.received.length - base, 3, 'still within the period of the first mail');
      assert.equal(metric(ctx, 'throttled'), 3);
      // the throttle allows a mail again: the held-back ones go, listed in one mail
      await advance(ctx, out, 1_000);
      await out.whenIdle();
      assert.equal(peer.received.length - base, 4);
      const summary = peer.received.at(-1)!.mail;
      assert.equal(summary.subject, '[3 throttled] disk full');
      assert.match(summary.text!, /^3 mails held back by the throttle since 2026-01-01T00:00:00\.003Z:/);
      assert.match(summary.text!, /--- 1\/3 2026-01-01T00:00:00\.003Z disk full\nevent 3\n[\s\S]*--- 2\/3 \S+ disk full\nevent 5\n[\s\S]*--- 3\/3 \S+ disk full\nevent 6\n/);
      assert.match(String((summary.to as { text?: string }).text), /root@example\.org/, 'to the same recipients');
      await out.receive([mk('disk full', 7)]);
      await out.whenIdle();
      assert.equal(peer.received.at(-1)!.mail.text?.trim(), 'event 7', 'the first mail left the sliding window; nothing held any more');
      assert.equal(metric(ctx, 'delivered'), 5);
    } finally {
      await out.close();
    }
  });

  test('throttle_exempt: critical mails (severity_field, [alert][severity] by default) are never throttled nor counted; throttle_exempt => [] throttles them too', async () => {
    const crit = (i: number, severity = 'critical') => ev({ alert: { severity, attributes: { mail_subject: 'attack', mail_body: `attack ${i}` } } }, Date.UTC(2026, 0, 1) + i);
    for (const [extra, expected] of [
      ['', ['attack 1', 'attack 2', 'attack 3', 'attack 4']],
      ['throttle_exempt => []', ['attack 1']],
      ['severity_field => "[sev]" throttle_exempt => ["page"]', ['attack 1']],
    ] as const) {
      const ctx = makeContext({ dataDir: tmp() });
      const out = await make(conf(peer, `throttle_count => 1 throttle_period => 3600 ${extra}`), ctx);
      const base = peer.received.length;
      try {
        await out.receive([crit(1), crit(2, 'Critical'), crit(3), crit(4)]);
        await out.whenIdle();
        assert.deepEqual(peer.received.slice(base).map((r) => r.mail.text?.trim()), expected, extra || 'default');
        assert.equal(metric(ctx, 'throttled'), 4 - expected.length);
        assert.equal(metric(ctx, 'throttle_exempted'), expected.length === 4 ? 4 : 0);
        if (expected.length === 4) {
          // exempt mails took none of the allowance: a warning still goes
          await out.receive([crit(5, 'warning'), crit(6, 'warning')]);
          await out.whenIdle();
          assert.deepEqual(peer.received.slice(base + 4).map((r) => r.mail.text?.trim()), ['attack 5']);
        }
      } finally {
        await out.close();
      }
    }
  });

  test('throttle_exempt with a digest: a digest holding a critical event is not held back by the throttle', async () => {
    const ctx = makeContext({ dataDir: tmp() });
    const out = await make(conf(peer, `subject => "pfsense" body => "%{message}" digest_window => 60 throttle_count => 1 throttle_period => 3600`), ctx);
    const base = peer.received.length;
    const e = (i: number, severity: string) => ev({ message: `m${i}`, alert: { severity } }, Date.UTC(2026, 0, 1, 0, 0, i));
    try {
      await out.receive([e(1, 'warning')]);
      await advance(ctx, out, 61_000, 30_000);
      assert.equal(peer.received.length, base + 1, 'the first digest uses the allowance');
      await out.receive([e(2, 'warning')]);
      await advance(ctx, out, 61_000, 30_000);
      assert.equal(peer.received.length, base + 1, 'a warning digest waits for the throttle');
      await out.receive([e(3, 'critical')]);
      await advance(ctx, out, 61_000, 30_000);
      assert.equal(peer.received.length, base + 2, 'with a critical event in it, the digest goes');
      assert.match(peer.received.at(-1)!.mail.text!, /m2[\s\S]*m3/);
      assert.equal(metric(ctx, 'throttle_exempted'), 1);
    } finally {
      await out.close();
    }
  });

  test('digest: events within digest_window become one mail listing them, also across a restart; throttle holds digests back', async () => {
    const dataDir = tmp();
    const spool = join(dataDir, 'mail.sqlite');
    const body = conf(peer, `subject => "ssh failures" body => "%{message}" digest_window => 300 throttle_count => 1 throttle_period => 3600 spool_path => "${spool}"`);
    let ctx = makeContext({ dataDir });
    let out = await make(body, ctx);
    const base = peer.received.length;
    const line = (i: number) => ev({ message: `Failed password for root from 10.0.0.${i}` }, Date.UTC(2026, 0, 1, 0, 0, i));
    try {
      await out.receive([line(1), line(2)]);
      await advance(ctx, out, 100_000, 50_000);
      assert.equal(peer.received.length, base, 'nothing before the window closes');
      // the process restarts in the middle of the window: the collected events are on disk
      await out.close();
      ctx = makeContext({ dataDir });
      ctx.clock.advance(100_000);
      out = await make(body, ctx);
      await out.receive([line(3)]);
      await advance(ctx, out, 199_000, 50_000);
      assert.equal(peer.received.length, base);
      await advance(ctx, out, 2_000);
      assert.equal(peer.received.length, base + 1);
      const d = peer.received.at(-1)!;
      assert.equal(d.mail.subject, '[3 events] ssh failures');
      for (const i of [1, 2, 3]) assert.match(d.mail.text!, new RegExp(`Failed password for root from 10\\.0\\.0\\.${i}\\b`));
      assert.equal(metric(ctx, 'digested'), 3);
      // the throttle allows one mail an hour: the next window's digest waits, and later events join it
      await out.receive([line(4)]);
      await advance(ctx, out, 400_000, 100_000);
      assert.equal(peer.received.length, base + 1);
      assert.equal(metric(ctx, 'throttled'), 1);
      await out.receive([line(5)]);
      await advance(ctx, out, 3_300_000, 300_000);
      assert.equal(peer.received.length, base + 2);
      const d2 = peer.received.at(-1)!;
      assert.equal(d2.mail.subject, '[2 events] ssh failures');
      assert.match(d2.mail.text!, /10\.0\.0\.4\b[\s\S]*10\.0\.0\.5\b/);
    } finally {
      await out.close();
    }
  });
});

describe('email output: outages, restarts, refusals, redelivery', () => {
  test('an SMTP outage (server stopped, then back on the same port) is survived: every mail delivered once, in order', async () => {
    const peer = await SmtpPeer.start({ tls: certs.server, users: USERS });
    const ctx = makeContext({ dataDir: tmp() });
    const out = await make(conf(peer), ctx);
    try {
      await out.receive([alert('before', 'b0')]);
      await out.whenIdle();
      await peer.stop();
      const events = [1, 2, 3].map((i) => alert(`during ${i}`, `d${i}`));
      await out.receive(events);
      await advance(ctx, out, 120_000, 5_000);
      assert.equal(out.spool.depth, 3);
      assert.ok(metric(ctx, 'retried') >= 3, `retried ${metric(ctx, 'retried')}`);
      assert.ok(metric(ctx, 'spooled') >= 3);
      await peer.listen(peer.port);
      await advance(ctx, out, 60_000, 5_000);
      // the pipeline hands the same events over again (e.g. after a crash upstream): no second mail
      await out.receive(events);
      await out.whenIdle();
      assert.deepEqual(peer.received.map((r) => r.mail.subject), ['before', 'during 1', 'during 2', 'during 3']);
      assert.equal(metric(ctx, 'delivered'), 4);
      assert.equal(metric(ctx, 'duplicates'), 3);
      assert.equal(out.spool.depth, 0);
    } finally {
      await out.close();
      await peer.stop();
    }
  });

  test('a restart of the output during the outage (close, new instance on the same spool) delivers each mail once', async () => {
    const peer = await SmtpPeer.start({ tls: certs.server, users: USERS });
    const port = peer.port;
    await peer.stop();
    const dataDir = tmp();
    const body = conf(peer, `spool_path => "${join(dataDir, 'spool.sqlite')}"`);
    let ctx = makeContext({ dataDir });
    let out = await make(body, ctx);
    const events = [1, 2, 3].map((i) => alert(`mail ${i}`, `m${i}`));
    try {
      await out.receive(events);
      await advance(ctx, out, 30_000, 5_000);
      assert.equal(out.spool.depth, 3);
      await out.close();
      ctx = makeContext({ dataDir });
      out = await make(body, ctx);
      // the restarted pipeline replays the same events: they are already waiting, not spooled twice
      await out.receive(events);
      assert.equal(out.spool.depth, 3);
      await peer.listen(port);
      await advance(ctx, out, 600_000, 10_000);
      assert.deepEqual(peer.received.map((r) => r.mail.subject), ['mail 1', 'mail 2', 'mail 3']);
      assert.equal(metric(ctx, 'delivered'), 3);
      assert.equal(out.spool.depth, 0);
    } finally {
      await out.close();
      await peer.stop();
    }
  });

  test('5xx answers are dead-lettered at once (a refused recipient, a refused login); later mails still go', async () => {
    const peer = await SmtpPeer.start({ tls: certs.server, users: USERS, refuse: { 'gone@example.org': 550, 'busy@example.org': 451 } });
    const ctx = makeContext({ dataDir: tmp() });
    const out = await make(conf(peer, `to => "%{[rcpt]}" retry_max_attempts => 3`), ctx);
    const bad = await make(conf(peer, `password => "wrong"`), makeContext({ dataDir: tmp() }));
    try {
      await out.receive([alert('refused', 'x', { rcpt: 'gone@example.org' }), alert('accepted', 'y', { rcpt: 'root@example.org' })]);
      await out.whenIdle();
      assert.deepEqual(peer.received.map((r) => r.mail.subject), ['accepted']);
      assert.equal(metric(ctx, 'failed'), 1);
      assert.equal(metric(ctx, 'retried'), 0);
      const dead = out.spool.deadLetters();
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.status, '550');
      // a 4xx is retried, a bounded number of times, then dead-lettered too
      await out.receive([alert('greylisted', 'z', { rcpt: 'busy@example.org' })]);
      await advance(ctx, out, 60_000, 1_000);
      assert.equal(metric(ctx, 'retried'), 2);
      assert.equal(metric(ctx, 'failed'), 2);
      assert.equal(out.spool.deadLetters()[1]!.status, '451');
      await bad.receive([alert('never', 'n')]);
      await bad.whenIdle();
      assert.equal(bad.spool.deadLetters()[0]!.status, '535');
      assert.equal(bad.spool.depth, 0);
      assert.equal(peer.received.length, 1);
    } finally {
      await out.close();
      await bad.close();
      await peer.stop();
    }
  });
});
