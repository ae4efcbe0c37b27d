import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A real rsyslogd as a relay client: it tails a file (imfile) and forwards each line verbatim
 * (%rawmsg%) over TCP or TLS (gtls), as a site's rsyslog forwards to the log server. Its own config
 * and work directory; no system inputs.
 */
export interface Relay {
  /** Appends lines to the file rsyslog tails. */
  write(lines: string[]): void;
  stop(): Promise<void>;
  log(): string;
}

export interface RelayOptions {
  dir: string;
  port: number;
  /** TCP over TLS (gtls) with this client certificate. */
  tls?: { ca: string; cert: string; key: string };
  /** Forward over RELP (omrelp, Debian's rsyslog-relp) instead of plain TCP; `true` for the defaults. */
  relp?: true | RelpOptions;
  /** rsyslog's template for what is sent: the line as written (default), or e.g. RSYSLOG_ForwardFormat. */
  template?: string;
  /** The imfile tag (syslog program) of the forwarded lines. */
  tag?: string;
}

export interface RelpOptions {
  /** omrelp's window (unacknowledged frames in flight); librelp's default is 128, 1024 here. */
  windowSize?: number;
  tls?: { ca: string; cert: string; key: string; permittedPeer: string };
}

const OMRELP = ['/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so', '/usr/lib/aarch64-linux-gnu/rsyslog/omrelp.so', '/usr/lib/rsyslog/omrelp.so'];

/** The rsyslog action() parameters that forward to 127.0.0.1:port, retrying forever while the receiver is down. */
function forwardAction(o: RelayOptions, template: string): string[] {
  const retry = ['action.resumeRetryCount="-1"', 'action.resumeInterval="1"'];
  if (o.relp) {
    // a missing package is a failure with its name, not a timeout
    if (!OMRELP.some((p) => existsSync(p))) throw new Error('rsyslog omrelp is not installed: run scripts/setup-debian.sh (Debian packages rsyslog, rsyslog-relp)');
    const r = o.relp === true ? {} : o.relp;
    const a = ['type="omrelp"', 'target="127.0.0.1"', `port="${o.port}"`, `windowSize="${r.windowSize ?? 1024}"`, `template="${template}"`, ...retry];
    if (r.tls) a.push('tls="on"', `tls.caCert="${r.tls.ca}"`, `tls.myCert="${r.tls.cert}"`, `tls.myPrivKey="${r.tls.key}"`, 'tls.authMode="name"', `tls.permittedPeer=["${r.tls.permittedPeer}"]`);
    return a;
  }
  const a = ['type="omfwd"', 'target="127.0.0.1"', `port="${o.port}"`, 'protocol="tcp"', `template="${template}"`, ...retry];
  if (o.tls) a.push('StreamDriver="gtls"', 'StreamDriverMode="1"', 'StreamDriverAuthMode="x509/name"', 'StreamDriverPermittedPeers="localhost"');
  return a;
}

export function startRelay(o: RelayOptions): Relay {
  const work = join(o.dir, 'work');
  mkdirSync(work, { recursive: true });
  const input = join(o.dir, 'in.log');
  writeFileSync(input, '');
  const g = [`workDirectory="${work}"`, 'net.enableDNS="off"', 'maxMessageSize="64k"', 'localHostname="relay"'];
  if (o.tls) g.push(`DefaultNetstreamDriverCAFile="${o.tls.ca}"`, `DefaultNetstreamDriverCertFile="${o.tls.cert}"`, `DefaultNetstreamDriverKeyFile="${o.tls.key}"`);
  const template = o.template ?? 'verbatim';
  const conf = join(o.dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(${g.join(' ')})`,
      'template(name="verbatim" type="string" string="%rawmsg%")',
      'module(load="imfile" mode="inotify")',
      ...(o.relp ? ['module(load="omrelp")'] : []),
      `input(type="imfile" file="${input}" tag="${o.tag ?? 'relay:'}" freshStartTail="off")`,
      `action(${forwardAction(o, template).join(' ')})`,
    ].join('\n') + '\n',
  );
  let output = '';
  const child = spawn('rsyslogd', ['-n', '-f', conf, '-i', join(work, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.once('error', (e) => (output += `\nrsyslogd could not start (apt-get install rsyslog rsyslog-gnutls): ${e.message}`));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    write(lines) {
      writeFileSync(input, lines.map((l) => l + '\n').join(''), { flag: 'a' });
    },
    log: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
