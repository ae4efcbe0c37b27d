import { inputCompliance, sendTcp } from '@pipeline/core/testing';
import plugin from '../src/index.js';

// The compliance suite (core/src/testing/compliance.ts): each message a line on one TCP
// connection, as rsyslog forwards; the codec decodes the line, the syslog header is parsed from
// the decoded message, so each record is sent behind an RFC 3164 header.
inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} use_labels => false`,
  ready: async (run) => void (await run.pipeline.waitForLog((r) => r.plugin === run.id && r.msg === 'listening (udp)', 'the syslog input to listen (TCP, then UDP)')),
  send: (run, data) => sendTcp(run.port, data.flatMap((m) => [m, Buffer.from('\n')])),
  wrap: (record) => `<13>Jan  2 03:04:05 box app: ${record}`,
});
