import { after } from 'node:test';
import { outputCompliance, type ComplianceRun } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { TestServer } from './server.js';

// The compliance suite (core/src/testing/compliance.ts) against a real HTTP server, one per run on
// the run's port; each event is one request whose body is its message.
const servers = new Map<number, TestServer>();
after(async () => {
  for (const s of servers.values()) await s.stop();
});
const body = (run: ComplianceRun) => `url => "http://127.0.0.1:${run.port}/in" http_method => "post" format => "message" message => "%{message}"`;

outputCompliance(plugin, {
  package: import.meta.url,
  options: body,
  changed: (run) => `${body(run)} request_timeout => 30`,
  async ready(run) {
    if (!servers.has(run.port)) servers.set(run.port, await TestServer.start({ port: run.port }));
  },
  written: (run) => servers.get(run.port)?.delivered() ?? [],
});
