import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@pipeline/output-redis/testing';
import { BIN, freePort, REPO, startPipeline, tempDir, waitFor } from './util.js';

/**
 * Issue 12: every input that takes a codec honours every codec, with the codec's own options,
 * through the real command: the same payloads go in through each input, and the events written
 * by a file output are compared. rubydebug only encodes (as in Logstash): inputs refuse it at -t.
 */

type Codec = 'plain' | 'line' | 'json' | 'json_lines';
const CODEC_CONFIG: Record<Codec, string> = {
  plain: 'codec => plain',
  line: 'codec => line { delimiter => "|" }',
  json: 'codec => json',
  json_lines: 'codec => json_lines',
};
/** What each codec is fed (`wrap` turns each message into what the input expects, a syslog line for syslog). */
function payload(codec: Codec, wrap: (m: string) => string): string {
  switch (codec) {
    case 'plain':
      return wrap('hello plain');
    case 'line':
      return ['a', 'b', 'c'].map(wrap).join('|');
    case 'json':
      return JSON.stringify({ message: wrap('j1'), k: 1 });
    case 'json_lines':
      return `${JSON.stringify({ message: wrap('l1'), k: 2 })}\n${JSON.stringify({ message: wrap('l2'), k: 2 })}`;
  }
}
const EXPECTED: Record<Codec, { messages: string[]; k?: number }> = {
  plain: { messages: ['hello plain'] },
  line: { messages: ['a', 'b', 'c'] },
  json: { messages: ['j1'], k: 1 },
  json_lines: { messages: ['l1', 'l2'], k: 2 },
};

interface Ctx {
  dir: string;
  port: number;
  redisPort: number;
}
interface InputCase {
  name: string;
  /** The input block, with CODEC where the codec goes. */
  config(c: Ctx, codec: Codec): string;
  /** Before start (files, Redis lists). */
  prepare?(c: Ctx, data: string, codec: Codec): Promise<void> | void;
  /** Log message that says the input is ready for data. */
  ready?: string;
  /** After start: sends the data; returns what goes to stdin, if anything. */
  send?(c: Ctx, data: string, codec: Codec): Promise<void> | void;
  stdin?: boolean;
  wrap?: (m: string) => string;
  /** Extra check per event (syslog: the header was parsed from the decoded message). */
  check?(e: Record<string, unknown>): void;
  /** How plain's one-event-per-chunk is compared on a stream: the texts joined. */
  joinPlain?: boolean;
}

const SYSLOG = (m: string) => `<13>Dec  3 10:00:00 myhost app: ${m}`;

function tcpSend(port: number, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

function udpSend(port: number, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.send(Buffer.from(data), port, '127.0.0.1', (err) => {
      s.close();
      if (err) reject(err);
      else resolve();
    });
  });
}

/** A RELP session by hand (RFC-less but documented framing: TXNR SP CMD SP LEN [SP DATA] LF). */
async function relpSend(port: number, data: string): Promise<void> {
  const frame = (txnr: number, cmd: string, d: string) => `${txnr} ${cmd} ${Buffer.byteLength(d)}${d.length ? ' ' + d : ''}\n`;
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(frame(1, 'open', 'relp_version=0\nrelp_software=codecs-test\ncommands=syslog'));
      s.write(frame(2, 'syslog', data));
    });
    let got = '';
    let closing = false;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      // the syslog frame's answer: then close the session
      if (!closing && /(^|\n)2 rsp /.test(got)) {
        closing = true;
        s.end(frame(3, 'close', ''));
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

const INPUTS: InputCase[] = [
  { name: 'generator', config: (_c, codec) => `generator { count => 1 lines => ['${payload(codec, (m) => m)}'] ${CODEC_CONFIG[codec]} }` },
  { name: 'stdin', stdin: true, config: (_c, codec) => `stdin { ${CODEC_CONFIG[codec]} }` },
  {
    name: 'tcp',
    ready: 'listening',
    joinPlain: true,
    config: (c, codec) => `tcp { host => "127.0.0.1" port => ${c.port} ${CODEC_CONFIG[codec]} }`,
    send: (c, data) => tcpSend(c.port, data),
  },
  {
    name: 'udp',
    ready: 'listening (udp)',
    config: (c, codec) => `udp { host => "127.0.0.1" port => ${c.port} ${CODEC_CONFIG[codec]} }`,
    send: (c, data) => udpSend(c.port, data),
  },
  {
    name: 'file',
    config: (c, codec) => `file { path => "${join(c.dir, 'in.log')}" start_position => "beginning" sincedb_path => "/dev/null" stat_interval => 0.1 ${CODEC_CONFIG[codec]} }`,
    prepare: (c, data) => writeFileSync(join(c.dir, 'in.log'), data + '\n'),
  },
  {
    name: 'syslog',
    ready: 'listening (udp)',
    wrap: SYSLOG,
    config: (c, codec) => `syslog { host => "127.0.0.1" port => ${c.port} ${CODEC_CONFIG[codec]} }`,
    send: (c, data) => tcpSend(c.port, data + '\n'),
    check: (e) => {
      assert.equal(e.program, 'app', 'the syslog header is parsed from the decoded message');
      assert.equal(e.logsource, 'myhost');
    },
  },
  {
    name: 'redis',
    config: (c, codec) => `redis { host => "127.0.0.1" port => ${c.redisPort} data_type => "list" key => "codecs:${codec}" ${CODEC_CONFIG[codec]} }`,
    prepare: async (c, data, codec) => {
      const r = new Redis({ port: c.redisPort, host: '127.0.0.1', lazyConnect: true });
      await r.connect();
      await r.rpush(`codecs:${codec}`, data);
      r.disconnect();
    },
  },
  {
    name: 'relp',
    ready: 'listening (RELP)',
    config: (c, codec) => `relp { host => "127.0.0.1" port => ${c.port} ${CODEC_CONFIG[codec]} }`,
    send: (c, data) => relpSend(c.port, data),
  },
];

describe('input codecs (plain, line with delimiter, json, json_lines; rubydebug refused)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  for (const input of INPUTS) {
    for (const codec of ['plain', 'line', 'json', 'json_lines'] as Codec[]) {
      it(`${input.name} with ${CODEC_CONFIG[codec]}`, async () => {
        const t = tempDir('pipeline-codecs-');
        try {
          const c: Ctx = { dir: t.dir, port: await freePort(), redisPort: redis.port };
          const data = payload(codec, input.wrap ?? ((m) => m));
          const out = join(t.dir, 'out.json');
          const conf = join(t.dir, 'p.conf');
          writeFileSync(conf, `input { ${input.config(c, codec)} }\noutput { file { path => "${out}" } }\n`);
          await input.prepare?.(c, data, codec);
          const p = startPipeline(['-f', conf, '--path.data', join(t.dir, 'data'), '--api.enabled', 'false'], { cwd: REPO });
          try {
            if (input.ready) await waitFor(() => p.stderr().includes(`"msg":"${input.ready}"`), `${input.name} to listen`);
            if (input.stdin) p.child.stdin!.end(data);
            await input.send?.(c, data, codec);
            const want = EXPECTED[codec];
            const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
            const text = () => lines().map((l) => (JSON.parse(l) as { message: string }).message).join('');
            await waitFor(() => (input.joinPlain && codec === 'plain' ? text() === want.messages.join('') : lines().length >= want.messages.length), `events in ${out}; stderr: ${p.stderr().slice(-2000)}`);
          } finally {
            p.child.kill('SIGTERM');
            await p.exited;
          }
          // after a clean stop, every event is written: compare all of them
          const events = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
          const want = EXPECTED[codec];
          if (input.joinPlain && codec === 'plain') assert.equal(events.map((e) => e.message).join(''), want.messages.join(''), 'one event per chunk read, the text whole');
          else assert.deepEqual(events.map((e) => e.message), want.messages);
          for (const e of events) {
            if (want.k !== undefined) assert.equal(e.k, want.k, 'fields from the JSON document');
            assert.ok(!(e.tags as string[] | undefined)?.includes('_jsonparsefailure'), JSON.stringify(e));
            input.check?.(e);
          }
        } finally {
          t.cleanup();
        }
      });
    }

    it(`${input.name} refuses codec => rubydebug at -t with file:line:col`, async () => {
      const t = tempDir('pipeline-codecs-');
      try {
        const c: Ctx = { dir: t.dir, port: 1, redisPort: 1 };
        const conf = join(t.dir, 'p.conf');
        const block = input.config(c, 'plain').replace('codec => plain', 'codec => rubydebug');
        writeFileSync(conf, `input {\n  ${block}\n}\noutput { file { path => "${join(t.dir, 'out')}" } }\n`);
        const r = spawnSync(process.execPath, [BIN, 'start', '-t', '-f', conf, '--path.data', join(t.dir, 'data')], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        const col = block.indexOf('rubydebug') + 3; // "  " indent, columns from 1
        assert.match(r.stdout + r.stderr, new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:${col}: the rubydebug codec only encodes`));
      } finally {
        t.cleanup();
      }
    });
  }
});
