import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real rsyslogd as the receiving syslog server: imtcp (optionally TLS through gtls) and imudp on
 * one port, every message written to `<dir>/out.log` with a template of the fields rsyslog parsed
 * from it, one line per message:
 *   hostname|programname|procid|msgid|facility|severity|timereported|structured-data|msg
 * Its own config, work directory and pid file; no system inputs. Debian: apt-get install rsyslog rsyslog-gnutls.
 */
export interface Receiver {
  readonly port: number;
  readonly out: string;
  /** Lines of the output file so far (a last line without its LF is left out). */
  lines(): string[];
  stop(): Promise<void>;
  log(): string;
}

export interface ReceiverOptions {
  dir: string;
  port: number;
  /** TLS server certificate (gtls, no client certificates asked). */
  tls?: { ca: string; cert: string; key: string };
  /** Also listen on UDP. */
  udp?: boolean;
}

export const FIELDS = '%hostname%|%programname%|%procid%|%msgid%|%syslogfacility%|%syslogseverity%|%timereported:::date-rfc3339%|%structured-data%|%msg%\\n';

export async function startReceiver(o: ReceiverOptions): Promise<Receiver> {
  const work = join(o.dir, `work-${o.port}`);
  mkdirSync(work, { recursive: true });
  const out = join(o.dir, 'out.log');
  const g = [`workDirectory="${work}"`, 'net.enableDNS="off"', 'maxMessageSize="64k"'];
  if (o.tls) g.push(`DefaultNetstreamDriverCAFile="${o.tls.ca}"`, `DefaultNetstreamDriverCertFile="${o.tls.cert}"`, `DefaultNetstreamDriverKeyFile="${o.tls.key}"`);
  const tcpModule = o.tls ? 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")' : 'module(load="imtcp")';
  const conf = join(work, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(${g.join(' ')})`,
      // what rsyslog has read is written out before it exits, however long that takes
      'main_queue(queue.timeoutShutdown="60000" queue.timeoutActionCompletion="60000")',
      tcpModule,
      ...(o.udp ? ['module(load="imudp")', `input(type="imudp" port="${o.port}" address="127.0.0.1")`] : []),
      `input(type="imtcp" port="${o.port}" address="127.0.0.1")`,
      `template(name="fields" type="string" string="${FIELDS}")`,
      `action(type="omfile" file="${out}" template="fields")`,
    ].join('\n') + '\n',
  );
  let output = '';
  const child: ChildProcess = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  child.once('error', (e) => (output += `\nrsyslogd could not start (apt-get install rsyslog rsyslog-gnutls): ${e.message}`));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const r: Receiver = {
    port: o.port,
    out,
    lines() {
      let text = '';
      try {
        text = readFileSync(out, 'utf8');
      } catch {
        return [];
      }
      return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
    },
    log: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
  await waitForListening(o.port, () => output, child);
  return r;
}

/** Until something accepts TCP connections on 127.0.0.1:port (rsyslog is up). */
async function waitForListening(port: number, log: () => string, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > 30_000) throw new Error(`rsyslogd is not listening on ${port} after 30 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
