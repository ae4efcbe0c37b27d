import { after } from 'node:test';
import { outputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { Peer } from './helpers.js';

// The compliance suite (core/src/testing/compliance.ts) with a real TCP server per run as the
// output's peer: what the output wrote is the text that server read.
const peers = new Map<number, Peer>();
after(async () => {
  for (const p of peers.values()) await p.close();
});

outputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} reconnect_interval => 11`,
  async ready(run) {
    if (!peers.has(run.port)) peers.set(run.port, await Peer.start({ port: run.port }));
  },
  written: (run) => peers.get(run.port)?.text() ?? '',
});
