import http from 'node:http';
import { inputCompliance } from '@pipeline/core/testing';
import plugin from '../src/index.js';

/** One POST per message, its bytes as the body (text/plain: the input's codec decodes it). */
function post(port: number, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false, headers: { 'Content-Type': 'text/plain' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`http input answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// The compliance suite (core/src/testing/compliance.ts): one request per message.
inputCompliance(plugin, {
  package: import.meta.url,
  options: (run) => `host => "127.0.0.1" port => ${run.port}`,
  changed: (run) => `host => "127.0.0.1" port => ${run.port} max_pending_requests => 100`,
  ready: async (run) => void (await run.pipeline.waitForLog((r) => r.plugin === run.id && r.msg === 'listening', 'the http input to listen')),
  send: async (run, data) => {
    for (const d of data) await post(run.port, d);
  },
});
