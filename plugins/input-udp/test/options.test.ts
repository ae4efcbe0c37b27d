import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkThenStart, start, tempDir, waitFor } from '@pipeline/net/testing';
import udp from '../src/index.js';

/**
 * Every option of Logstash's udp input documentation (logstash-input-udp docs/index.asciidoc) is
 * accepted; workers and queue_size, which cannot mean anything here, are warned about once each at start.
 */
const tmp = tempDir('pipeline-udp-options-');
after(() => tmp.cleanup());

describe("udp input: Logstash's documented options", () => {
  it('a config with every documented option passes -t; start warns once per ignored option', async () => {
    const conf = join(tmp.dir, 'all.conf');
    writeFileSync(
      conf,
      `input {
  udp {
    host => "127.0.0.1"
    port => 0
    buffer_size => 8192
    ecs_compatibility => "v8"
    queue_size => 2000
    receive_buffer_bytes => 262144
    source_ip_fieldname => "[source][ip]"
    workers => 2
  }
}
output { null {} }
`,
    );
    const r = await checkThenStart(conf, '"msg":"pipeline started"', join(tmp.dir, 'data'));
    assert.equal(r.check.code, 0, r.check.stdout + r.check.stderr);
    const warned = r.startLog.split('\n').filter((l) => l.includes('is deprecated: has no effect'));
    assert.deepEqual(warned.map((l) => /option '(\w+)'/.exec(l)?.[1]).sort(), ['queue_size', 'workers'], r.startLog.slice(-3000));
  });

  it("ecs_compatibility => v8 puts the sender's address in [host][ip]", async () => {
    const t = await start(udp, 'port => 0 host => "127.0.0.1" ecs_compatibility => "v8"');
    try {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.send('hello', t.port, '127.0.0.1', () => (s.close(), r())));
      await waitFor(() => t.sink.events.length === 1, 'an event');
      assert.equal(t.sink.events[0]!.get('[host][ip]'), '127.0.0.1');
    } finally {
      await t.stop();
    }
  });
});
