import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { defaultResendWindow } from '@pipeline/net';
import { startReceiver, type Receiver } from './rsyslog.js';
import { freePort, makeCerts, startPipeline, tempDir, waitFor } from './util.js';

/**
 * The syslog output against a real rsyslogd (imtcp, imudp, gtls), run as a user runs it: the
 * `pipeline` command with a generator input. rsyslog writes, per message, the fields it parsed:
 * hostname|programname|procid|msgid|facility|severity|timereported|structured-data|msg
 */
const receivers: Receiver[] = [];
const dirs: (() => void)[] = [];
after(async () => {
  for (const r of receivers) await r.stop();
  for (const c of dirs) c();
});

async function receiver(o: { tls?: boolean; udp?: boolean } = {}): Promise<{ r: Receiver; port: number; dir: string; certs?: ReturnType<typeof makeCerts> }> {
  const { dir, cleanup } = tempDir();
  dirs.push(cleanup);
  const port = await freePort();
  const certs = o.tls ? makeCerts(dir) : undefined;
  const r = await startReceiver({ dir, port, tls: certs, udp: o.udp });
  receivers.push(r);
  return { r, port, dir, certs };
}

/** Runs `pipeline start` on CONFIG to its end (the generator is finite) and returns its exit code. */
async function run(config: string): Promise<number | null> {
  const p = startPipeline(config);
  const code = await p.exited;
  if (code !== 0) throw new Error(`pipeline exited ${code}: ${p.stderr()}`);
  return code;
}

const fields = (line: string) => {
  const [hostname, programname, procid, msgid, facility, severity, timereported, sd, ...msg] = line.split('|');
  return { hostname, programname, procid, msgid, facility, severity, timereported, sd, msg: msg.join('|') };
};

/** A generator of `lines` (written into the config as they are: its strings have no escapes, a line break is one). */
const GEN = (lines: string[]) =>
  `input { generator { count => 1 lines => [${lines.map((l) => `"${l}"`).join(', ')}] } } filter { mutate { replace => { "host" => "web1" } } }`;

describe('syslog output into rsyslog', () => {
  it('RFC 3164 over UDP and over TCP, as rsyslog parses it', async () => {
    for (const protocol of ['udp', 'tcp']) {
      const { r, port } = await receiver({ udp: true });
      await run(`${GEN(['first message', 'second: with a colon'])} output { syslog { host => "127.0.0.1" port => ${port} protocol => "${protocol}" appname => "sshd" procid => "4242" facility => "auth" severity => "warning" } }`);
      await waitFor(() => r.lines().length === 2, `two messages over ${protocol}`);
      const got = r.lines().map(fields).sort((a, b) => a.msg.localeCompare(b.msg));
      for (const f of got) {
        assert.deepEqual([f.hostname, f.programname, f.procid, f.msgid, f.facility, f.severity], ['web1', 'sshd', '4242', '-', '4', '4'], protocol);
        assert.match(f.timereported!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      }
      // rsyslog keeps RFC 3164's space after the tag in %msg%
      assert.deepEqual(got.map((f) => f.msg), [' first message', ' second: with a colon']);
    }
  });

  it('RFC 5424 over TCP: msgid, procid, structured data and the fractional timestamp', async () => {
    const { r, port } = await receiver();
    await run(
      `${GEN(['hello world'])} output { syslog { host => "127.0.0.1" port => ${port} protocol => "tcp" rfc => "rfc5424" appname => "app" procid => "42" msgid => "ID7" facility => "local3" severity => "error" structured_data => '[ex@32473 iut="3" src="%{host}"]' } }`,
    );
    await waitFor(() => r.lines().length === 1, 'the message');
    const f = fields(r.lines()[0]!);
    assert.deepEqual([f.hostname, f.programname, f.procid, f.msgid, f.facility, f.severity, f.sd, f.msg], ['web1', 'app', '42', 'ID7', '19', '3', '[ex@32473 iut="3" src="web1"]', 'hello world']);
    assert.match(f.timereported!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
  });

  it('TLS (ssl-tcp) to rsyslog gtls, the server checked against the CA', async () => {
    const { r, port, certs } = await receiver({ tls: true });
    await run(
      `${GEN(['over tls'])} output { syslog { host => "127.0.0.1" port => ${port} protocol => "ssl-tcp" ssl_verify => true ssl_cacert => "${certs!.ca}" rfc => "rfc5424" appname => "tlsapp" } }`,
    );
    await waitFor(() => r.lines().length === 1, 'the message');
    const f = fields(r.lines()[0]!);
    assert.deepEqual([f.hostname, f.programname, f.msg], ['web1', 'tlsapp', 'over tls']);
  });

  it('octet-counted framing: a message with line breaks arrives as one message', async () => {
    const { r, port } = await receiver();
    await run(`${GEN(['line one\nline two', 'single'])} output { syslog { host => "127.0.0.1" port => ${port} protocol => "tcp" framing => "octet-counted" rfc => "rfc5424" } }`);
    await waitFor(() => r.lines().length === 2, 'two messages');
    // rsyslog shows the LF it received inside the message as #012
    assert.deepEqual(r.lines().map((l) => fields(l).msg), ['line one#012line two', 'single']);
    // with LF framing the same line break is sent as the two characters \n, as Logstash does
    const lf = await receiver();
    await run(`${GEN(['line one\nline two'])} output { syslog { host => "127.0.0.1" port => ${lf.port} protocol => "tcp" rfc => "rfc5424" } }`);
    await waitFor(() => lf.r.lines().length === 1, 'one message');
    assert.equal(fields(lf.r.lines()[0]!).msg, 'line one\\nline two');
  });

  for (const tls of [false, true]) {
    it(`rsyslog restarted mid-stream over ${tls ? 'TLS' : 'TCP'}: every line arrives`, async () => {
      const n = tls ? 50_000 : 100_000;
      const first = await receiver({ tls });
      const { port, dir, certs } = first;
      const ssl = tls ? `protocol => "ssl-tcp" ssl_verify => true ssl_cacert => "${certs!.ca}"` : 'protocol => "tcp"';
      const p = startPipeline(`input { generator { count => ${n} message => "x" } } output { syslog { host => "127.0.0.1" port => ${port} ${ssl} message => "line-%{sequence}" } }`);
      await waitFor(() => first.r.lines().length >= n / 5, 'a fifth of the lines');
      await first.r.stop();
      const atStop = first.r.lines().length;
      const second = await startReceiver({ dir, port, tls: certs });
      receivers.push(second);
      const code = await p.exited;
      assert.equal(code, 0, p.stderr());
      // rsyslog has read everything when it closes the connection; it writes its file a moment later
      const tally = () => {
        const seen = new Map<number, number>();
        for (const l of second.lines()) {
          const m = /line-(\d+)$/.exec(l);
          if (m) seen.set(Number(m[1]), (seen.get(Number(m[1])) ?? 0) + 1);
        }
        return seen;
      };
      await waitFor(() => tally().size === n, 'every line in the file', 30_000).catch(() => {});
      const seen = tally();
      const missing: number[] = [];
      for (let i = 0; i < n; i++) if (!seen.has(i)) missing.push(i);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines missing`);
      assert.ok(atStop < n, 'the receiver was stopped before the end of the stream');
      // what may arrive twice is bounded by the resend window (plus one batch)
      let dups = 0;
      for (const v of seen.values()) dups += v - 1;
      const lineBytes = `<13>Mar 04 05:06:07 vm LOGSTASH[-]: line-0\n`.length;
      assert.ok(dups * lineBytes <= defaultResendWindow() + 125 * 100, `${dups} duplicates`);
      const logs = p.stderr();
      assert.match(logs, /connection lost/);
      assert.match(logs, /connected again/);
      process.stdout.write(`# ${tls ? 'TLS' : 'TCP'} restart: ${n} lines, receiver stopped at ${atStop}, missing ${missing.length}, duplicates ${dups}\n`);
    });
  }
});
