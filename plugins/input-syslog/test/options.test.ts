import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { completeCodec, Event, type CodecFactory } from '@pipeline/core';
import { checkThenStart, start, tempDir, waitFor } from '@pipeline/net/testing';
import syslog from '../src/index.js';

/**
 * Every option of Logstash's syslog input documentation (logstash-input-syslog docs/index.asciidoc)
 * is accepted; those that cannot mean anything here (grok_pattern: the header is parsed natively;
 * locale: month names are English) are warned about once each at start.
 */
const tmp = tempDir('pipeline-syslog-options-');
after(() => tmp.cleanup());

const send = (port: number, text: string) =>
  new Promise<void>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(text));
    s.on('error', reject);
    s.on('close', () => resolve());
  });

describe("syslog input: Logstash's documented options", () => {
  it('a config with every documented option passes -t; start warns once per ignored option', async () => {
    const conf = join(tmp.dir, 'all.conf');
    writeFileSync(
      conf,
      `input {
  syslog {
    host => "127.0.0.1"
    port => 0
    ecs_compatibility => "disabled"
    facility_labels => ["kernel", "user-level"]
    severity_labels => ["Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"]
    grok_pattern => "<%{POSINT:priority}>%{SYSLOGLINE}"
    locale => "en"
    proxy_protocol => false
    syslog_field => "message"
    timezone => "Europe/Helsinki"
    use_labels => true
  }
}
output { null {} }
`,
    );
    const r = await checkThenStart(conf, '"msg":"pipeline started"', join(tmp.dir, 'data'));
    assert.equal(r.check.code, 0, r.check.stdout + r.check.stderr);
    const warned = r.startLog.split('\n').filter((l) => l.includes('is deprecated: has no effect'));
    assert.deepEqual(warned.map((l) => /option '(\w+)'/.exec(l)?.[1]).sort(), ['grok_pattern', 'locale'], r.startLog.slice(-3000));
  });

  it('proxy_protocol => true is refused at -t', async () => {
    await assert.rejects(() => start(syslog, 'port => 0 proxy_protocol => true'), /PROXY protocol is not supported/);
  });

  it('ecs_compatibility => v8 puts the fields where Logstash does; syslog_field names the field parsed', async () => {
    // a stand-in codec that puts the text in [line] (as a json codec would for {"line": "..."})
    const codec: CodecFactory = {
      name: 'to-line',
      create: () => completeCodec({ decode: (d, emit) => emit(new Event({ line: String(d) })), flush: () => {}, encode: () => '' }),
    };
    const t = await start(syslog, 'port => 0 host => "127.0.0.1" syslog_field => "line"', { codec });
    try {
      await send(t.port, '<38>Dec  3 10:00:00 web1 sshd[4100]: from the line field\n');
      await waitFor(() => t.sink.events.length === 1, 'an event');
      const e = t.sink.events[0]!;
      assert.equal(e.get('message'), 'from the line field');
      assert.equal(e.get('program'), 'sshd');
      assert.equal(e.get('priority'), 38);
      assert.ok(!e.hasTag('_syslogparsefailure'));
    } finally {
      await t.stop();
    }
    const v8 = await start(syslog, 'port => 0 host => "127.0.0.1" ecs_compatibility => "v8"');
    try {
      await send(v8.port, '<38>Dec  3 10:00:00 web1 sshd[4100]: hello\n');
      await waitFor(() => v8.sink.events.length === 1, 'an event');
      const e = v8.sink.events[0]!;
      assert.equal(e.get('message'), 'hello');
      assert.equal(e.get('[log][syslog][priority]'), 38);
      assert.equal(e.get('[log][syslog][facility][code]'), 4);
      assert.equal(e.get('[log][syslog][severity][code]'), 6);
      assert.equal(e.get('[log][syslog][facility][name]'), 'security/authorization');
      assert.equal(e.get('[log][syslog][severity][name]'), 'Informational');
      assert.equal(e.get('[host][ip]'), '127.0.0.1');
      assert.equal(e.get('[host][hostname]'), 'web1');
      assert.equal(e.get('[process][name]'), 'sshd');
      assert.equal(e.get('[process][pid]'), 4100);
      assert.equal(e.get('timestamp'), 'Dec  3 10:00:00');
      for (const k of ['priority', 'facility', 'severity', 'program', 'pid', 'logsource']) assert.equal(e.get(k), undefined, k);
    } finally {
      await v8.stop();
    }
  });
});
