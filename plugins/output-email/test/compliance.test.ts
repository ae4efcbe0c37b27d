import { after, before } from 'node:test';
import { outputCompliance, type ComplianceRun } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { makeCerts, SmtpPeer } from './smtp-peer.js';

// The compliance suite (core/src/testing/compliance.ts) against a real SMTP server in this
// process, one per run on the run's port; each event is a mail whose subject is its message.
let tls: Awaited<ReturnType<typeof makeCerts>>['server'];
const peers = new Map<number, SmtpPeer>();
before(async () => {
  tls = (await makeCerts()).server;
});
after(async () => {
  for (const p of peers.values()) await p.stop();
});
const body = (run: ComplianceRun) => `address => "127.0.0.1" port => ${run.port} starttls => "never" to => "ops@example.org" subject => "%{message}" body => "event %{message}"`;

outputCompliance(plugin, {
  package: import.meta.url,
  options: body,
  changed: (run) => `${body(run)} timeout => 20`,
  async ready(run) {
    if (!peers.has(run.port)) peers.set(run.port, await SmtpPeer.start({ tls, port: run.port }));
  },
  written: (run) => (peers.get(run.port)?.received ?? []).map((r) => String(r.mail.subject)),
});
