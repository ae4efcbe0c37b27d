import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkThenStart, start, tempDir, waitFor, type Started } from '@pipeline/net/testing';
import file from '../src/index.js';

/**
 * Every option of Logstash's file input documentation (logstash-input-file docs/index.asciidoc) is
 * accepted; close_older, max_open_files and check_archive_validity, which cannot mean anything
 * here, are warned about once each at start. The others work as Logstash documents them.
 */
let tmp: ReturnType<typeof tempDir>;
let logs: string;
let data: string;
beforeEach(() => {
  tmp = tempDir('pipeline-file-options-');
  logs = join(tmp.dir, 'logs');
  data = join(tmp.dir, 'data');
  mkdirSync(logs);
  mkdirSync(data);
});
afterEach(() => tmp.cleanup());

const messages = (t: Started) => t.sink.events.map((e) => e.get('message') as string);
async function tick(t: Started): Promise<void> {
  const before = t.metric('scans');
  t.ctx.clock.advance(1000);
  await waitFor(() => t.metric('scans') > before, 'a scan');
}

describe("file input: Logstash's documented options", () => {
  it('a config with every documented option passes -t; start warns once per ignored option', async () => {
    const conf = join(tmp.dir, 'all.conf');
    writeFileSync(
      conf,
      `input {
  file {
    path => ["${logs}/*.log"]
    check_archive_validity => false
    close_older => 3600
    delimiter => "\\n"
    discover_interval => 15
    ecs_compatibility => "v8"
    exclude => ["*.gz"]
    exit_after_read => false
    file_chunk_count => 32
    file_chunk_size => 32768
    file_completed_action => "log"
    file_completed_log_path => "${tmp.dir}/completed.log"
    file_sort_by => "last_modified"
    file_sort_direction => "asc"
    ignore_older => 86400
    max_open_files => 4095
    mode => "tail"
    sincedb_clean_after => 14
    sincedb_path => "${data}/sincedb"
    sincedb_write_interval => 15
    start_position => "end"
    stat_interval => 1
  }
}
output { null {} }
`,
    );
    const r = await checkThenStart(conf, '"msg":"pipeline started"', join(tmp.dir, 'pdata'));
    assert.equal(r.check.code, 0, r.check.stdout + r.check.stderr);
    const warned = r.startLog.split('\n').filter((l) => l.includes('is deprecated: has no effect'));
    assert.deepEqual(warned.map((l) => /option '(\w+)'/.exec(l)?.[1]).sort(), ['check_archive_validity', 'close_older', 'max_open_files'], r.startLog.slice(-3000));
  });

  it('file_chunk_size and file_chunk_count take turns between files, in file_sort_by/file_sort_direction order', async () => {
    for (const f of ['a', 'b']) writeFileSync(join(logs, `${f}.log`), `${f}-line-01\n${f}-line-02\n${f}-line-03\n`);
    for (const [direction, expected] of [
      ['asc', ['a-line-01', 'b-line-01', 'a-line-02', 'b-line-02', 'a-line-03', 'b-line-03']],
      ['desc', ['b-line-01', 'a-line-01', 'b-line-02', 'a-line-02', 'b-line-03', 'a-line-03']],
    ] as const) {
      const t = await start(
        file,
        `path => "${logs}/*.log" mode => "read" file_completed_action => "log" file_completed_log_path => "${tmp.dir}/done-${direction}.log" ` +
          `sincedb_path => "/dev/null" file_chunk_size => 10 file_chunk_count => 1 file_sort_by => "path" file_sort_direction => "${direction}"`,
        { dataDir: data },
      );
      try {
        await waitFor(() => t.sink.events.length === 6, '6 lines');
        assert.deepEqual(messages(t), expected);
      } finally {
        await t.stop();
      }
    }
  });

  it('ignore_older: a file found unmodified for longer is left alone; once it changes, what was added is read', async () => {
    writeFileSync(join(logs, 'old.log'), 'old 1\n');
    writeFileSync(join(logs, 'fresh.log'), 'fresh 1\n');
    // the test's virtual clock is at 2026-01-01: old.log was last modified a year before
    const year = new Date(Date.UTC(2025, 0, 1));
    utimesSync(join(logs, 'old.log'), year, year);
    const t = await start(file, `path => "${logs}/*.log" start_position => "beginning" ignore_older => 86400 stat_interval => 1 discover_interval => 1`, { dataDir: data });
    try {
      await tick(t);
      assert.deepEqual(messages(t), ['fresh 1']);
      appendFileSync(join(logs, 'old.log'), 'old 2\n');
      await tick(t);
      await tick(t);
      assert.deepEqual(messages(t), ['fresh 1', 'old 2']);
    } finally {
      await t.stop();
    }
  });

  it('ecs_compatibility => v8: [log][file][path] and [host][name] instead of path and host', async () => {
    writeFileSync(join(logs, 'x.log'), 'one\n');
    const t = await start(file, `path => "${logs}/x.log" start_position => "beginning" ecs_compatibility => "v8" sincedb_path => "/dev/null"`, { dataDir: data });
    try {
      await waitFor(() => t.sink.events.length === 1, 'a line');
      const e = t.sink.events[0]!;
      assert.equal(e.get('[log][file][path]'), join(logs, 'x.log'));
      assert.equal(e.get('[host][name]'), hostname());
      assert.equal(e.get('path'), undefined);
    } finally {
      await t.stop();
    }
  });
});
