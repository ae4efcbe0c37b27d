/**
 * The crafted lines of issue 13 sent to a running pipeline over TCP: through kv, the json filter and
 * RFC 5424 structured data they must neither re-route later events (`if [polluted]`) nor crash the
 * process at its next log call, and they are filed with their keys as plain data.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort, startPipeline, tempDir, waitFor } from '../e2e/util.js';

const HOSTILE_LINES = [
  'kv [__proto__][polluted]=yes',
  'kv [__proto__][hasOwnProperty]=x',
  'kv [constructor][prototype][polluted]=yes',
  'kv __proto__=yes constructor=yes toString=x',
  'json {"__proto__": {"polluted": "yes", "hasOwnProperty": 1}}',
  'json {"[__proto__][polluted]": "yes", "[constructor][prototype][toString]": 1}',
  'json {"constructor": {"prototype": {"polluted": "yes"}}}',
  'json {not json', // makes the json filter log a warning: the "next log call" that crashed before
];
/** RFC 5424 lines for the syslog input, whose structured-data ids and names come from the sender. */
const SD_LINES = [
  '<13>1 2026-12-03T10:00:00Z web1 app 1 - [__proto__ polluted="yes" hasOwnProperty="x"] sd one',
  '<13>1 2026-12-03T10:00:00Z web1 app 1 - [constructor prototype="yes"][x@1 __proto__="y"] sd two',
];

function readEvents(file: string): Record<string, unknown>[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('prototype keys sent to a running pipeline', () => {
  it('crafted kv, json and structured-data lines change no routing and crash nothing', async () => {
    const t = tempDir();
    try {
      const port = await freePort();
      const syslogPort = await freePort();
      const out = join(t.dir, 'out.jsonl');
      const conf = `
        input {
          tcp { port => ${port} host => "127.0.0.1" }
          syslog { port => ${syslogPort} host => "127.0.0.1" add_field => { "kind" => "sd" } }
        }
        filter {
          if ![kind] { grok { match => { "message" => "^%{WORD:kind} %{GREEDYDATA:body}" } } }
          if [kind] == "kv" { kv { source => "body" } }
          else if [kind] == "json" { json { source => "body" } }
          else if [kind] == "sd" { mutate { add_field => { "sd_seen" => "1" } } }
          if [polluted] or [hasOwnProperty] { mutate { add_tag => ["rerouted"] } }
        }
        output { file { path => "${out}" codec => json_lines flush_interval => 0 } }`;
      const p = startPipeline(['-e', conf, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false']);
      try {
        const lines = [...HOSTILE_LINES, ...Array.from({ length: 20 }, (_, i) => `plain after-${i}`)];
        const send = (to: number, text: string[]) =>
          waitFor(
            () =>
              new Promise<boolean>((resolve) => {
                const s = connect(to, '127.0.0.1', () => s.end(text.map((l) => l + '\n').join(''), () => resolve(true)));
                s.on('error', () => resolve(false));
              }),
            `an input on port ${to} to accept the lines`,
          );
        // the hostile lines first, and the plain ones only once those are filed: they come after
        await send(syslogPort, SD_LINES);
        await send(port, HOSTILE_LINES);
        await waitFor(() => readEvents(out).length === HOSTILE_LINES.length + SD_LINES.length, 'the hostile lines filed', 30_000);
        await send(port, lines.slice(HOSTILE_LINES.length));
        const total = lines.length + SD_LINES.length;
        await waitFor(() => readEvents(out).length === total, `all ${total} events filed`, 30_000);
        const events = readEvents(out);
        const rerouted = events.filter((e) => Array.isArray(e.tags) && e.tags.includes('rerouted'));
        // the lines that do carry a top-level polluted/hasOwnProperty field of their own are the only ones tagged
        const own = events.filter((e) => Object.hasOwn(e, 'polluted') || Object.hasOwn(e, 'hasOwnProperty'));
        assert.deepEqual(rerouted.map((e) => e.message), own.map((e) => e.message), 'routing followed only events that had the field');
        for (const e of events.filter((e) => String(e.message).startsWith('plain'))) assert.equal(e.tags, undefined, `${String(e.message)} was re-routed`);
        const kv = events.find((e) => e.message === 'kv [__proto__][polluted]=yes')!;
        assert.deepEqual(kv['__proto__'], { polluted: 'yes' }, 'the key is filed as data');
        const sd = events.find((e) => e.message === 'sd one')!;
        assert.deepEqual((sd.structured_data as Record<string, unknown>)['__proto__'], { polluted: 'yes', hasOwnProperty: 'x' });
        const bad = events.find((e) => e.message === 'json {not json')!;
        assert.deepEqual(bad.tags, ['_jsonparsefailure']);
        assert.equal(p.child.exitCode, null, `the pipeline exited: ${p.stderr()}`);
      } finally {
        p.child.kill('SIGTERM');
        assert.equal(await p.exited, 0, p.stderr());
      }
    } finally {
      t.cleanup();
    }
  });
});
