import { after } from 'node:test';
import { outputCompliance, type ComplianceRun } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { AlertaDouble } from '../src/testing.js';

// The compliance suite (core/src/testing/compliance.ts) against the recorded Alerta double, one
// per run on the run's port; each event becomes an alert whose resource is its message.
const doubles = new Map<number, AlertaDouble>();
after(async () => {
  for (const d of doubles.values()) await d.stop();
});
const body = (run: ComplianceRun) => `endpoint => "http://127.0.0.1:${run.port}" resource => "%{message}" event => "cmplx_event" environment => "Production" severity => "minor" service => ["cmplx_service"]`;

outputCompliance(plugin, {
  package: import.meta.url,
  options: body,
  changed: (run) => `${body(run)} request_timeout => 5`,
  async ready(run) {
    if (!doubles.has(run.port)) doubles.set(run.port, await AlertaDouble.start({ port: run.port }));
  },
  written: (run) => (doubles.get(run.port)?.alerts ?? []).map((a) => String(a.resource)),
});
