import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
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
  tls?: { ca: string; cert: string; key: string };
  /** Forward over RELP (omrelp, Debian's rsyslog-relp) instead of plain TCP. */
  relp?: boolean;
}

export function startRelay(o: RelayOptions): Relay {
  const work = join(o.dir, 'work');
  mkdirSync(work, { recursive: true });
  const input = join(o.dir, 'in.log');
  writeFileSync(input, '');
  const g = [`workDirectory="${work}"`, 'net.enableDNS="off"', 'maxMessageSize="64k"', 'localHostname="relay"'];
  const a = o.relp
    ? ['type="omrelp"', 'target="127.0.0.1"', `port="${o.port}"`, 'windowSize="1024"', 'template="verbatim"', 'action.resumeRetryCount="-1"', 'action.resumeInterval="1"']
    : ['type="omfwd"', 'target="127.0.0.1"', `port="${o.port}"`, 'protocol="tcp"', 'template="verbatim"', 'action.resumeRetryCount="-1"', 'action.resumeInterval="1"'];
  if (o.tls) {
    g.push(`DefaultNetstreamDriverCAFile="${o.tls.ca}"`, `DefaultNetstreamDriverCertFile="${o.tls.cert}"`, `DefaultNetstreamDriverKeyFile="${o.tls.key}"`);
    a.push('StreamDriver="gtls"', 'StreamDriverMode="1"', 'StreamDriverAuthMode="x509/name"', 'StreamDriverPermittedPeers="localhost"');
  }
  const conf = join(o.dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(${g.join(' ')})`,
      'template(name="verbatim" type="string" string="%rawmsg%")',
      'module(load="imfile" mode="inotify")',
      ...(o.relp ? ['module(load="omrelp")'] : []),
      `input(type="imfile" file="${input}" tag="relay:" freshStartTail="off")`,
      `action(${a.join(' ')})`,
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
