/**
 * The batch path of the timeout guard: prepare(batch) queues the batch's values for the match
 * worker in one go, filter() then reads the worker's results. Everything here is compared with
 * direct matching (timeout_millis => 0) on the same events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPlugin } from '@pipeline/core/testing';
import { Event, type FilterInstance, type Fields } from '@pipeline/core';
import grok from '../src/index.js';

// the reference's grok block (../shared/reference/homelab-setup.md, filter section)
const REFERENCE = String.raw`
  match => {
     "message" => [ "%{SYSLOGTIMESTAMP:syslog_timestamp} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: \[%{DATA}\] %{DATA:snort_event} \[Classification: %{DATA:snort_classification}\] \[Priority: %{NUMBER:snort_priority}\] \{%{DATA:snort_protocol}\} %{IP:snort_src_ip}:%{POSINT:snort_src_port} -> %{IP:snort_dest}:%{POSINT:snort_dest_port}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: /usr/bin/rsnapshot( -v)? %{DATA:rsnapshot_event}: %{GREEDYDATA:rsnapshot_output}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}",
     "%{TIMESTAMP_ISO8601:syslog_timestamp} %{SYSLOGHOST:syslog_hostname} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}",
     "%{SYSLOGTIMESTAMP:syslog_timestamp} %{DATA:syslog_program}(?:\[%{POSINT:syslog_pid}\])?: %{GREEDYDATA:syslog_message}"]
  }`;

const SNORT = '<33>Mar  1 00:00:00 snort[2729]: [1:2001219:20] ET SCAN Potential SSH Scan [Classification: Attempted Information Leak] [Priority: 2] {TCP} 203.0.113.168:31145 -> 10.0.0.1:22';
const RSNAPSHOT = '<78>Mar  1 04:00:01 backup01 rsnapshot[4242]: /usr/bin/rsnapshot -v hourly: completed successfully';
const SSHD = '<38>Mar  1 00:00:05 jumpbox sshd[18205]: Accepted publickey for alice from 198.51.100.7 port 52544 ssh2';
const PFSENSE = '<38>Mar  1 00:00:00 sshd[18205]: Invalid user ubnt from 198.51.100.113 port 52544';

// the homelab corpus the benchmark uses (deterministic generator shared by the project)
const GEN = fileURLToPath(new URL('../../../../../shared/bench/corpus/gen.mjs', import.meta.url));

function corpus(lines: number): string[] {
  assert.ok(existsSync(GEN), `corpus generator missing: ${GEN}`);
  const out = execFileSync(process.execPath, [GEN, '--lines', String(lines), '--seed', '7'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\n').filter(Boolean);
}

const noop = () => {};

interface Outcome {
  ok: boolean | void;
  fields: Fields;
}

function snapshot(e: Event, ok: boolean | void): Outcome {
  const { '@timestamp': _t, ...fields } = e.fields;
  return { ok, fields: structuredClone(fields) };
}

/** Direct matching, event by event: the reference result. */
function direct(f: FilterInstance, values: Fields[]): Outcome[] {
  return values.map((v) => {
    const e = new Event(structuredClone(v));
    return snapshot(e, f.filter(e, noop));
  });
}

/** As the executor drives a filter: prepare each batch, then filter each of its events. */
function batched(f: FilterInstance, values: Fields[], size = 125): Outcome[] {
  const out: Outcome[] = [];
  for (let start = 0; start < values.length; start += size) {
    const batch = values.slice(start, start + size).map((v) => new Event(structuredClone(v)));
    f.prepare!(batch);
    for (const e of batch) out.push(snapshot(e, f.filter(e, noop)));
  }
  return out;
}

test('grok batch path: prepare + filter equals direct matching on the homelab corpus (and odd values)', async () => {
  const values: Fields[] = corpus(3000).map((message) => ({ message, host: '10.0.0.1' }));
  // values the batch path hands to the per-event path, and text the worker must carry exactly
  values.splice(10, 0, { message: [SSHD, 'nothing', PFSENSE] }, { message: 42 }, { other: 'no message' }, { message: '' });
  values.splice(500, 0, { message: `<38>Mar  1 00:00:05 höst-ü sshd[1]: emoji 😀 lone \uD800 surrogate` }, { message: 'no match at all' });
  values.push({ message: `<38>Mar  1 00:00:05 jumpbox sshd[1]: ${'x'.repeat(200_000)}` }); // grows the text buffer
  const d = await createPlugin(grok, `${REFERENCE}\n timeout_millis => 0`);
  const g = await createPlugin(grok, REFERENCE);
  try {
    assert.equal(typeof g.prepare, 'function');
    assert.equal(d.prepare, undefined, 'direct matching needs no prepare');
    const want = direct(d, values);
    assert.deepEqual(batched(g, values), want);
    assert.deepEqual(batched(g, values, 700), want, 'batches larger than the initial buffers');
    assert.deepEqual(direct(g, values), want, 'per-event path (no prepare)');
    // the corpus really exercises the patterns
    assert.ok(want.filter((o) => o.fields.snort_event !== undefined).length > 50);
    assert.ok(want.filter((o) => o.ok === false).length >= 3);
  } finally {
    await g.close?.();
  }
});

test('grok batch path: several match fields, break_on_match => false, target and typed captures', async () => {
  const cfg = String.raw`match => { "message" => ["%{SYSLOGTIMESTAMP:ts} %{SYSLOGHOST:host}", "%{WORD:w} %{INT:n:int}"] "alt" => "%{IP:ip}" } break_on_match => false target => "p"`;
  const values: Fields[] = [
    { message: 'Mar  1 00:00:05 jumpbox sshd', alt: '10.1.2.3' },
    { message: 'abc 12', alt: 'none' },
    { message: 'Mar  1 00:00:05 h 7', alt: ['1.1.1.1', 'x'] },
    { alt: '8.8.8.8' },
    { message: 'x' },
  ];
  const d = await createPlugin(grok, `${cfg} timeout_millis => 0`);
  const g = await createPlugin(grok, cfg);
  try {
    assert.deepEqual(batched(g, values), direct(d, values));
  } finally {
    await g.close?.();
  }
});

test('grok batch path: an event changed after prepare is matched on its value at filter() time', async () => {
  const d = await createPlugin(grok, `${REFERENCE}\n timeout_millis => 0`);
  const g = await createPlugin(grok, REFERENCE);
  try {
    const batch = [SNORT, RSNAPSHOT, SSHD, PFSENSE, SSHD].map((message) => new Event({ message }));
    g.prepare!(batch);
    // what earlier filters or conditionals might do between prepare and this filter
    batch[0]!.set('message', SSHD); // another string
    batch[1]!.set('message', [PFSENSE, SNORT]); // an array
    batch[2]!.remove('message'); // gone
    batch[3]!.set('message', PFSENSE.slice(0, 20) + PFSENSE.slice(20)); // same text, another string object
    batch[4]!.set('message', `${SSHD} (edited)`);
    const expected = direct(d, batch.map((e) => {
      const { '@timestamp': _t, ...rest } = e.fields;
      return rest;
    }));
    const got = batch.map((e) => snapshot(e, g.filter(e, noop)));
    assert.deepEqual(got, expected);
    assert.equal(got[0]!.fields.syslog_hostname, 'jumpbox');
    assert.deepEqual(got[1]!.fields.syslog_program, ['sshd', 'snort']);
    assert.equal(got[4]!.fields.syslog_message, 'Accepted publickey for alice from 198.51.100.7 port 52544 ssh2 (edited)');
  } finally {
    await g.close?.();
  }
});

test('grok batch path: the last event of a batch with one field changed and another still prepared', async () => {
  const cfg = 'match => { "a" => "%{WORD:x}" "b" => "%{INT:y}" } break_on_match => false';
  const d = await createPlugin(grok, `${cfg} timeout_millis => 0`);
  const g = await createPlugin(grok, cfg);
  try {
    const batch = [new Event({ a: 'one', b: '1' }), new Event({ a: 'two', b: '2' })];
    g.prepare!(batch);
    batch[1]!.set('a', 'changed'); // per-event path for "a"; "b" must still use its prepared result
    const got = batch.map((e) => snapshot(e, g.filter(e, noop)));
    assert.deepEqual(got, direct(d, [{ a: 'one', b: '1' }, { a: 'changed', b: '2' }]));
    assert.deepEqual(got[1]!.fields, { a: 'changed', b: '2', x: 'changed', y: '2', '@version': '1' });
  } finally {
    await g.close?.();
  }
});

test('grok batch path: dropped, skipped and new events', async () => {
  const d = await createPlugin(grok, `${REFERENCE}\n timeout_millis => 0`);
  const g = await createPlugin(grok, REFERENCE);
  try {
    const lines = corpus(40);
    const batch = lines.map((message) => new Event({ message }));
    g.prepare!(batch);
    const got: (Outcome | undefined)[] = [];
    for (let i = 0; i < batch.length; i++) {
      if (i % 3 === 1) continue; // dropped or skipped by a conditional: filter() never sees it
      got[i] = snapshot(batch[i]!, g.filter(batch[i]!, noop));
      if (i === 20) {
        // an event emitted by an earlier filter (split, clone): not part of the prepared batch
        const extra = new Event({ message: SNORT });
        assert.deepEqual(snapshot(extra, g.filter(extra, noop)), direct(d, [{ message: SNORT }])[0]);
      }
    }
    // an event seen out of order (behind the cursor) still gets the right answer
    got[1] = snapshot(batch[1]!, g.filter(batch[1]!, noop));
    const want = direct(d, lines.map((message) => ({ message })));
    for (let i = 0; i < batch.length; i++) if (got[i] !== undefined) assert.deepEqual(got[i], want[i], `event ${i}`);
    // the next batch arrives while nothing of the previous one is read at all
    g.prepare!(lines.slice(0, 10).map((message) => new Event({ message })));
    const next = lines.slice(10, 20).map((message) => new Event({ message }));
    g.prepare!(next);
    assert.deepEqual(next.map((e) => snapshot(e, g.filter(e, noop))), want.slice(10, 20));
  } finally {
    await g.close?.();
  }
});

// URIPROTO is [A-Za-z]([A-Za-z0-9+\-.]+)+ : exponential backtracking when "://" does not follow it
// (the line holds "://" elsewhere, so the required-literal pre-check cannot skip the regex)
const RUNAWAY = 'match => { "message" => ["%{URI:u}", "%{WORD:w}"] }';
const HOSTILE = 'a'.repeat(40) + '!://x';

for (const scope of ['pattern', 'event']) {
  test(`grok batch path: a runaway value mid-batch gets _groktimeout, its neighbours parse (timeout_scope => ${scope})`, async () => {
    const g = await createPlugin(grok, `${RUNAWAY} timeout_millis => 200 timeout_scope => "${scope}"`);
    try {
      const messages = Array.from({ length: 21 }, (_, i) => (i === 10 ? HOSTILE : i % 2 ? `see http://example.com/${i}` : `word${i}`));
      const batch = messages.map((message) => new Event({ message }));
      const t0 = performance.now();
      g.prepare!(batch);
      const ok = batch.map((e) => g.filter(e, noop));
      const took = performance.now() - t0;
      assert.ok(took >= 190 && took < 5000, `batch took ${took} ms`);
      assert.deepEqual(batch[10]!.tags, ['_groktimeout']);
      assert.equal(ok[10], false);
      for (let i = 0; i < batch.length; i++) {
        if (i === 10) continue;
        assert.deepEqual(batch[i]!.tags, [], `event ${i}`);
        if (i % 2) assert.equal(batch[i]!.get('u'), `http://example.com/${i}`);
        else assert.equal(batch[i]!.get('w'), `word${i}`);
      }
    } finally {
      await g.close?.();
    }
  });
}

test('grok batch path: two runaway values cost one timeout each; a runaway in a skipped event or an abandoned batch holds others up once', async () => {
  const g = await createPlugin(grok, `${RUNAWAY} timeout_millis => 150`);
  try {
    const batch = ['x1', HOSTILE, 'x2', 'b'.repeat(40) + '!://y', 'x3'].map((message) => new Event({ message }));
    let t0 = performance.now();
    g.prepare!(batch);
    for (const e of batch) g.filter(e, noop);
    let took = performance.now() - t0;
    assert.ok(took >= 290 && took < 6000, `two timeouts took ${took} ms`);
    assert.deepEqual(batch.map((e) => e.tags), [[], ['_groktimeout'], [], ['_groktimeout'], []]);
    assert.deepEqual(batch.map((e) => e.get('w')), ['x1', undefined, 'x2', undefined, 'x3']);

    // the runaway's event is skipped: the next event needs no guarded pattern (WORD is proven
    // safe, and URI's required "://" is absent) and parses without waiting for it
    const skipped = ['y1', HOSTILE, 'y2'].map((message) => new Event({ message }));
    g.prepare!(skipped);
    g.filter(skipped[0]!, noop);
    g.filter(skipped[2]!, noop);
    assert.equal(skipped[2]!.get('w'), 'y2');
    assert.deepEqual(skipped[1]!.tags, []);
    // the next value that does need the guard waits for the runaway to be stopped, then parses
    const next = new Event({ message: 'see http://example.com/z' });
    g.filter(next, noop);
    assert.equal(next.get('u'), 'http://example.com/z');

    // a batch left unread with a runaway in it: the next batch is held up by one timeout at most
    g.prepare!([new Event({ message: HOSTILE })]);
    const after = ['z1', 'z2'].map((message) => new Event({ message }));
    t0 = performance.now();
    g.prepare!(after);
    for (const e of after) g.filter(e, noop);
    took = performance.now() - t0;
    assert.ok(took < 5000, `abandoned runaway held up ${took} ms`);
    assert.deepEqual(after.map((e) => e.get('w')), ['z1', 'z2']);
  } finally {
    await g.close?.();
  }
});
