import { inputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';
import { RelpClient } from './client.js';

// The compliance suite (core/src/testing/compliance.ts): one RELP session per send, a syslog
// frame per message, each acknowledged before the session is closed.
inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} max_line_bytes => 32768`,
  ready: async (run) => void (await run.pipeline.waitForLog((r) => r.plugin === run.id && String(r.msg).startsWith('listening'), 'the relp input to listen')),
  async send(run, data) {
    const c = await RelpClient.connect(run.port);
    try {
      await c.response(c.open());
      const sent = data.map((m) => c.send('syslog', m));
      for (const n of sent) {
        const r = await c.response(n);
        if (!r.data.startsWith('200')) throw new Error(`frame ${n} not acknowledged: ${r.data}`);
      }
      c.send('close');
      await c.closed();
    } finally {
      c.destroy();
    }
  },
});
