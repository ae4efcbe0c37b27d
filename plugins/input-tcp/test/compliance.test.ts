import { inputCompliance, sendTcp } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): one connection per send.
inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} max_line_bytes => 32768`,
  ready: async (run) => void (await run.pipeline.waitForLog((r) => r.plugin === run.id && String(r.msg).startsWith('listening'), 'the tcp input to listen')),
  send: (run, data) => sendTcp(run.port, data),
});
