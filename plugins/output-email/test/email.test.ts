import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Event, Timestamp } from '@pipeline/core';
import { createPlugin, makeContext, type TestContext } from '@pipeline/core/testing';
import email, { type EmailOutput } from '../src/index.js';
import { makeCerts, SmtpPeer } from './smtp-peer.js';

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
