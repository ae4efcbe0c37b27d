import { inputCompliance, sendUdp } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): one datagram per message.
inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} buffer_size => 32768`,
  // a datagram sent before the socket is bound is lost: wait for it
  ready: async (run) => void (await run.pipeline.waitForLog((r) => r.plugin === run.id && r.msg === 'listening (udp)', 'the udp input to listen')),
  send: (run, data) => sendUdp(run.port, data),
});
