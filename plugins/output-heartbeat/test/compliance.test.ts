import { after } from 'node:test';
import { outputCompliance, type ComplianceRun } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { HeartbeatReplayServer } from './replay-server.js';

// The compliance suite (core/src/testing/compliance.ts) against the recorded Alerta heartbeat
// double, one per run on the run's port; each event is a heartbeat whose origin is its message.
const servers = new Map<number, HeartbeatReplayServer>();
after(async () => {
  for (const s of servers.values()) await s.stop();
});
const body = (run: ComplianceRun) => `endpoint => "http://127.0.0.1:${run.port}" origin => "%{message}" timeout => "120"`;

outputCompliance(plugin, {
  package: import.meta.url,
  options: body,
  changed: (run) => `${body(run)} request_timeout => 5`,
  async ready(run) {
    if (servers.has(run.port)) return;
    const s = new HeartbeatReplayServer();
    s.port = run.port;
    await s.start();
    servers.set(run.port, s);
  },
  written: (run) => (servers.get(run.port)?.accepted ?? []).map((h) => String(h.origin)),
});
